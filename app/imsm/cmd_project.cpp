// imsm project FILE.json — an experiment project end to end (data, run matrix, suite, report).
#include <atomic>
#include <csignal>

#include "commands.h"
#include "progress_bar.h"
#include "recipes/environment.h"
#include "recipes/project.h"
#include "util/log.h"

namespace imsm::cli {

namespace {
std::atomic<bool> g_stop{false};
void on_sigint(int) { g_stop.store(true); }
}  // namespace

void add_project(CLI::App& app, Run& run) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("project", "Run an experiment project: datasets, fine-tuning runs × seeds, the benchmark suite, the report");
  cmd->add_option("file", *file, "Project file (projects/*.json)")->required();
  cmd->callback([&run, file] {
    run = [file] {
      const std::string warning = blas_warning_line();
      if (!warning.empty()) log::warn(warning);
      std::signal(SIGINT, on_sigint);
      ProjectSummary s;
      {
        ProgressBar bar("project");
        std::string stage;
        s = run_project(*file, [&](const ProjectProgress& p) {
          if (p.stage != stage && p.stage != "eval") log::info(p.stage + ": " + p.detail);
          stage = p.stage;
          bar.update(p.done, p.total, p.eta_seconds, p.stage + " " + p.detail);
        }, [] { return g_stop.load(); });
      }
      std::signal(SIGINT, SIG_DFL);
      log::info("finished in " + format_duration(s.seconds) + ": " + std::to_string(s.train_run_ids.size()) + " training runs (" +
                std::to_string(s.reused_runs) + " reused), " + std::to_string(s.eval_run_ids.size()) + " evaluations");
      log::info("workspace " + s.workspace);
      log::info("report " + s.report);
      return 0;
    };
  });
}

}  // namespace imsm::cli
