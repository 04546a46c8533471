// imsm runs list | show ID | compare ID... | flips A B | export ID... --format csv|json | resume ID   [--workspace FILE]
#include <iostream>

#include "commands.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/run_table.h"
#include "report/flips.h"
#include "report/significance_table.h"
#include "recipes/train_record.h"
#include "store/run_report.h"
#include "util/utf8.h"
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
  CLI::App* cmd = app.add_subcommand("runs", "Runs recorded in a workspace: list, show, compare, flips, export, resume");
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

  CLI::App* flips = cmd->add_subcommand("flips", "The examples whose correctness changed from evaluation A to evaluation B");
  auto flip_filter = std::make_shared<std::string>();
  auto flip_benchmark = std::make_shared<std::string>();
  auto flip_json = std::make_shared<bool>(false);
  flips->add_option("ids", *ids, "Evaluation runs A and B")->required()->expected(2);
  flips->add_option("--benchmark", *flip_benchmark, "Only this benchmark");
  flips->add_option("--only", *flip_filter, "gained (B right, A wrong) or lost (A right, B wrong)")->check(CLI::IsMember({"gained", "lost"}));
  flips->add_flag("--json", *flip_json, "One JSON object per example");
  flips->callback([&run, open, ids, flip_filter, flip_benchmark, flip_json] {
    run = [open, ids, flip_filter, flip_benchmark, flip_json] {
      const report::FlipList list = report::flipped_items(*open(), (*ids)[0], (*ids)[1]);
      auto cell = [](const std::string& text) {  // one line of at most 48 bytes, cut between characters
        const bool cut = text.size() > 48;
        std::string out;
        for (const std::string_view ch : utf8::characters(text)) {
          if (cut && out.size() + ch.size() > 45) return out + "...";
          out += ch == "\n" || ch == "\r" || ch == "\t" ? std::string_view(" ") : ch;
        }
        return out;
      };
      Table t;
      t.header = {"benchmark", "example", "change", "input", "gold", "A answered", "B answered"};
      for (const report::Flip& f : list.flips) {
        if (!flip_benchmark->empty() && f.benchmark != *flip_benchmark) continue;
        if (!flip_filter->empty() && (*flip_filter == "gained") != f.gained) continue;
        if (*flip_json) {
          std::cout << nlohmann::json{{"benchmark", f.benchmark}, {"example", f.example_index}, {"change", f.gained ? "gained" : "lost"},
                                      {"input", f.input}, {"golds", f.golds}, {"answer_a", f.answer_a}, {"answer_b", f.answer_b}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                    << "\n";
          continue;
        }
        t.rows.push_back({f.benchmark, std::to_string(f.example_index), f.gained ? "gained" : "lost", cell(f.input),
                          cell(f.golds.empty() ? "" : f.golds.front()), cell(f.answer_a), cell(f.answer_b)});
      }
      if (*flip_json) return 0;
      std::cout << format_table(t) << "run " << list.run_b << " against run " << list.run_a << ": " << list.gained << " gained, " << list.lost
                << " lost of " << list.compared << " examples compared\n";
      for (const std::string& why : list.skipped) log::warn("left out " + why);
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
