// imsm runs list | show ID | compare ID... | flips A B | export ID... --format csv|json | resume ID   [--workspace FILE]
#include <iostream>

#include "commands.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/train_record.h"
#include "report/flips.h"
#include "report/significance_table.h"
#include "store/run_report.h"
#include "util/log.h"
#include "util/utf8.h"
#include "views/run_table.h"

namespace imsm::cli {

namespace {

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") std::cout << text;
  else json::write_text_atomically(path, text);
}

// What the subcommands share: the workspace --workspace names. Read-only use still opens it for writing, so that
// runs of dead processes are marked interrupted first.
struct RunsWorkspace {
  std::shared_ptr<std::string> path = std::make_shared<std::string>(store::Workspace::kDefaultPath);
  std::unique_ptr<store::Workspace> open() const { return std::make_unique<store::Workspace>(*path); }
};

void add_list(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  CLI::App* list = cmd->add_subcommand("list", "One line per run");
  list->callback([&run, w] {
    run = [w] {
      const auto ws = w.open();
      const auto table = runs_table(run_summaries(*ws));
      if (table.rows.empty()) std::cout << "no runs in " << ws->path() << " (imsm train/eval --workspace " << ws->path() << " record them)\n";
      else std::cout << format_table(table);
      return 0;
    };
  });
}

void add_show(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  auto id = std::make_shared<std::vector<int64_t>>();
  auto predictions = std::make_shared<bool>(false);
  CLI::App* show = cmd->add_subcommand("show", "Everything recorded about one run (JSON)");
  show->add_option("id", *id, "Run id")->required()->expected(1);
  show->add_flag("--predictions", *predictions, "Include predictions and their per-token gate traces");
  show->callback([&run, w, id, predictions] {
    run = [w, id, predictions] {
      std::cout << store::run_json(*w.open(), id->front(), *predictions).dump(2) << "\n";
      return 0;
    };
  });
}

void add_compare(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  auto ids = std::make_shared<std::vector<int64_t>>();
  CLI::App* compare = cmd->add_subcommand("compare", "Runs side by side: status, losses, scores, differing config keys");
  compare->add_option("ids", *ids, "Run ids")->required()->expected(1, 1000);
  compare->callback([&run, w, ids] {
    run = [w, ids] {
      const auto ws = w.open();
      std::cout << format_table(store::compare_runs(*ws, *ids));
      const Table tests = report::compare_evaluations(*ws, *ids);
      if (!tests.rows.empty())
        std::cout << "\nThe first evaluation against each other one: 95% paired-bootstrap interval over the examples; McNemar's exact test "
                     "(right/wrong metrics) or the bootstrap's p; Holm over each pair's rows; * significant\n"
                  << format_table(tests);
      return 0;
    };
  });
}

// One line of at most 48 bytes, cut between characters.
std::string table_cell(const std::string& text) {
  const bool cut = text.size() > 48;
  std::string out;
  for (const std::string_view ch : utf8::characters(text)) {
    if (cut && out.size() + ch.size() > 45) return out + "...";
    out += ch == "\n" || ch == "\r" || ch == "\t" ? std::string_view(" ") : ch;
  }
  return out;
}

struct FlipsFilter {
  std::string benchmark;  // "": every benchmark
  std::string only;       // "gained", "lost" or "" (both)
  bool json = false;      // one JSON object per example instead of the table
};

// The flips of `list` that pass the filter, as JSON lines (returns "") or as a table's text.
std::string print_flips(const report::FlipList& list, const FlipsFilter& f) {
  Table t;
  t.header = {"benchmark", "example", "change", "input", "gold", "A answered", "B answered"};
  for (const report::Flip& x : list.flips) {
    if (!f.benchmark.empty() && x.benchmark != f.benchmark) continue;
    if (!f.only.empty() && (f.only == "gained") != x.gained) continue;
    if (f.json) {
      std::cout << nlohmann::json{{"benchmark", x.benchmark}, {"example", x.example_index}, {"change", x.gained ? "gained" : "lost"},
                                  {"input", x.input}, {"golds", x.golds}, {"answer_a", x.answer_a}, {"answer_b", x.answer_b}}
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      continue;
    }
    t.rows.push_back({x.benchmark, std::to_string(x.example_index), x.gained ? "gained" : "lost", table_cell(x.input),
                      table_cell(x.golds.empty() ? "" : x.golds.front()), table_cell(x.answer_a), table_cell(x.answer_b)});
  }
  return f.json ? "" : format_table(t);
}

void add_flips(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  auto ids = std::make_shared<std::vector<int64_t>>();
  auto filter = std::make_shared<FlipsFilter>();
  CLI::App* flips = cmd->add_subcommand("flips", "The examples whose correctness changed from evaluation A to evaluation B");
  flips->add_option("ids", *ids, "Evaluation runs A and B")->required()->expected(2);
  flips->add_option("--benchmark", filter->benchmark, "Only this benchmark");
  flips->add_option("--only", filter->only, "gained (B right, A wrong) or lost (A right, B wrong)")->check(CLI::IsMember({"gained", "lost"}));
  flips->add_flag("--json", filter->json, "One JSON object per example");
  flips->callback([&run, w, ids, filter] {
    run = [w, ids, filter] {
      const report::FlipList list = report::flipped_items(*w.open(), (*ids)[0], (*ids)[1]);
      const std::string table = print_flips(list, *filter);
      if (filter->json) return 0;
      std::cout << table << "run " << list.run_b << " against run " << list.run_a << ": " << list.gained << " gained, " << list.lost
                << " lost of " << list.compared << " examples compared\n";
      for (const std::string& why : list.skipped) log::warn("left out " + why);
      return 0;
    };
  });
}

void add_export(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  auto ids = std::make_shared<std::vector<int64_t>>();
  auto format = std::make_shared<std::string>("json");
  auto output = std::make_shared<std::string>();
  auto predictions = std::make_shared<bool>(false);
  CLI::App* exp = cmd->add_subcommand("export", "Runs as JSON (a list of run documents) or long-format CSV");
  exp->add_option("ids", *ids, "Run ids")->required()->expected(1, 1000);
  exp->add_option("--format", *format, "csv or json")->check(CLI::IsMember({"csv", "json"}))->capture_default_str();
  exp->add_option("-o,--output", *output, "Write to this file (default: standard output)");
  exp->add_flag("--predictions", *predictions, "JSON: include predictions and gate traces");
  exp->callback([&run, w, ids, format, output, predictions] {
    run = [w, ids, format, output, predictions] {
      const auto ws = w.open();
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
}

void add_resume(CLI::App* cmd, Run& run, const RunsWorkspace& w) {
  auto id = std::make_shared<std::vector<int64_t>>();
  CLI::App* resume = cmd->add_subcommand("resume", "Continue an interrupted or cancelled training run from its last checkpoint");
  resume->add_option("id", *id, "Run id")->required()->expected(1);
  resume->callback([&run, w, id] {
    run = [w, id] {
      const int64_t run_id = id->front();
      const std::string& workspace = *w.path;
      if (!dist::launch_from_environment().writer())  // a torchrun rank other than 0: rank 0 records the run
        return run_as_follower([&](const Hooks& hooks) { resume_train_run(workspace, run_id, hooks); });
      return train_with_progress(
          [&](const Hooks& hooks, int64_t& recorded) {
            recorded = run_id;
            return resume_train_run(workspace, run_id, hooks).summary;
          },
          [&](const std::string&, int64_t) { return "imsm runs resume " + std::to_string(run_id) + " --workspace " + workspace; });
    };
  });
}

}  // namespace

void add_runs(CLI::App& app, Run& run) {
  const RunsWorkspace w;
  CLI::App* cmd = app.add_subcommand("runs", "Runs recorded in a workspace: list, show, compare, flips, export, resume");
  cmd->add_option("--workspace", *w.path, "The SQLite workspace")->capture_default_str();
  cmd->require_subcommand(1);
  cmd->fallthrough();  // --workspace may also follow the subcommand
  add_list(cmd, run, w);
  add_show(cmd, run, w);
  add_compare(cmd, run, w);
  add_flips(cmd, run, w);
  add_export(cmd, run, w);
  add_resume(cmd, run, w);
}

}  // namespace imsm::cli
