// imsm runs list | show ID | compare ID... | export ID... --format csv|json | resume ID   [--workspace FILE]
#include <iostream>

#include "commands.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/run_table.h"
#include "report/significance_table.h"
#include "recipes/train_record.h"
#include "store/run_report.h"
#include "util/log.h"

namespace imsm::cli {

namespace {

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") std::cout << text;
  else json::write_text_atomically(path, text);
}

}  // namespace

void add_runs(CLI::App& app, Run& run) {
  auto workspace = std::make_shared<std::string>(store::Workspace::kDefaultPath);
  auto ids = std::make_shared<std::vector<int64_t>>();
  auto format = std::make_shared<std::string>("json");
  auto output = std::make_shared<std::string>();
  auto predictions = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("runs", "Runs recorded in a workspace: list, show, compare, export, resume");
  cmd->add_option("--workspace", *workspace, "The SQLite workspace")->capture_default_str();
  cmd->require_subcommand(1);
  cmd->fallthrough();  // --workspace may also follow the subcommand

  // Read-only use still opens for writing, so runs of dead processes are marked interrupted first.
  auto open = [workspace] { return std::make_unique<store::Workspace>(*workspace); };

  CLI::App* list = cmd->add_subcommand("list", "One line per run");
  list->callback([&run, open] {
    run = [open] {
      const auto ws = open();
      const auto table = runs_table(run_summaries(*ws));
      if (table.rows.empty()) std::cout << "no runs in " << ws->path() << " (imsm train/eval --workspace " << ws->path() << " record them)\n";
      else std::cout << format_table(table);
      return 0;
    };
  });

  CLI::App* show = cmd->add_subcommand("show", "Everything recorded about one run (JSON)");
  show->add_option("id", *ids, "Run id")->required()->expected(1);
  show->add_flag("--predictions", *predictions, "Include predictions and their per-token gate traces");
  show->callback([&run, open, ids, predictions] {
    run = [open, ids, predictions] {
      std::cout << store::run_json(*open(), ids->front(), *predictions).dump(2) << "\n";
      return 0;
    };
  });

  CLI::App* compare = cmd->add_subcommand("compare", "Runs side by side: status, losses, scores, differing config keys");
  compare->add_option("ids", *ids, "Run ids")->required()->expected(1, 1000);
  compare->callback([&run, open, ids] {
    run = [open, ids] {
      const auto ws = open();
      std::cout << format_table(store::compare_runs(*ws, *ids));
      const Table tests = report::compare_evaluations(*ws, *ids);
      if (!tests.rows.empty())
        std::cout << "\nThe first evaluation against each other one: 95% paired-bootstrap interval over the examples; McNemar's exact test "
                     "(right/wrong metrics) or the bootstrap's p; Holm over each pair's rows; * significant\n"
                  << format_table(tests);
      return 0;
    };
  });

  CLI::App* exp = cmd->add_subcommand("export", "Runs as JSON (a list of run documents) or long-format CSV");
  exp->add_option("ids", *ids, "Run ids")->required()->expected(1, 1000);
  exp->add_option("--format", *format, "csv or json")->check(CLI::IsMember({"csv", "json"}))->capture_default_str();
  exp->add_option("-o,--output", *output, "Write to this file (default: standard output)");
  exp->add_flag("--predictions", *predictions, "JSON: include predictions and gate traces");
  exp->callback([&run, open, ids, format, output, predictions] {
    run = [open, ids, format, output, predictions] {
      const auto ws = open();
      if (*format == "csv") {
        write_output(*output, store::runs_csv(*ws, *ids));
      } else {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (int64_t id : *ids) all.push_back(store::run_json(*ws, id, *predictions));
        write_output(*output, all.dump(2) + "\n");
      }
      if (!output->empty() && *output != "-") log::info("exported " + std::to_string(ids->size()) + " run(s) to " + *output);
      return 0;
    };
  });

  CLI::App* resume = cmd->add_subcommand("resume", "Continue an interrupted or cancelled training run from its last checkpoint");
  resume->add_option("id", *ids, "Run id")->required()->expected(1);
  resume->callback([&run, workspace, ids] {
    run = [workspace, ids] {
      const int64_t id = ids->front();
      if (!dist::launch_from_environment().writer())  // a torchrun rank other than 0: rank 0 records the run
        return run_as_follower([&](const Hooks& hooks) { resume_train_run(*workspace, id, hooks); });
      return train_with_progress(
          [&](const Hooks& hooks, int64_t& run_id) {
            run_id = id;
            return resume_train_run(*workspace, id, hooks).summary;
          },
          [&](const std::string&, int64_t) { return "imsm runs resume " + std::to_string(id) + " --workspace " + *workspace; });
    };
  });
}

}  // namespace imsm::cli
