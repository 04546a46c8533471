// imsm project FILE.json — an experiment project end to end (data, run matrix, suite, report).

#include "commands.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "progress_bar.h"
#include "recipes/project.h"
#include "util/log.h"

namespace imsm::cli {

void add_project(CLI::App& app, Run& run) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("project", "Run an experiment project: datasets, fine-tuning runs × seeds, the benchmark suite, the report");
  cmd->add_option("file", *file, "Project file (projects/*.json)")->required();
  cmd->callback([&run, file] {
    run = [file] {
      if (!dist::launch_from_environment().writer())  // a torchrun rank other than 0: its shares, silently
        return run_as_follower([&](const Hooks& hooks) { run_project(*file, hooks); });
      ProjectSummary s;
      {
        SigintScope ctrl_c;
        ProgressBar bar("project");
        std::string stage;
        Hooks hooks;
        hooks.on_progress = [&](const Progress& p) {
          if ((p.stage != stage && p.stage != "eval") || (p.stage == "train" && p.done % 1000 == 0 && p.detail.find(" step ") == std::string::npos))
            log::info(p.stage + ": " + p.detail);
          stage = p.stage;
          bar.update(p.done, p.total, p.eta_seconds, p.stage + " " + p.detail);
        };
        hooks.should_abort = [] { return SigintScope::requested(); };
        s = run_project(*file, with_requested_event_lines(hooks));
      }
      log::info("finished in " + format_duration(s.seconds) + ": " + std::to_string(s.train_run_ids.size()) + " training runs (" +
                std::to_string(s.reused_runs) + " reused), " + std::to_string(s.eval_run_ids.size()) + " evaluations (" +
                std::to_string(s.reused_evaluations) + " reused)");
      log::info("workspace " + s.workspace);
      log::info("report " + s.report);
      return 0;
    };
  });
}

}  // namespace imsm::cli
