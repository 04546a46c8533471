// imsm report [--workspace FILE] [--runs ID ...] --out report.html|report.md|results.csv
#include <unistd.h>

#include "commands.h"
#include "recipes/environment.h"
#include "report/report.h"
#include "util/log.h"
#include "util/process.h"

namespace imsm::cli {

void add_report(CLI::App& app, Run& run) {
  auto workspace = std::make_shared<std::string>(store::Workspace::kDefaultPath);
  auto out = std::make_shared<std::string>();
  auto options = std::make_shared<report::Options>();
  CLI::App* cmd = app.add_subcommand("report", "Write a self-contained report of a workspace: .html (tables, SVG plots, gate-coloured answers), .md or .csv");
  cmd->add_option("--workspace", *workspace, "The SQLite workspace")->capture_default_str();
  cmd->add_option("--runs", options->run_ids, "Only these runs (with their evaluations and training runs)");
  cmd->add_option("--examples", options->examples, "Example answers per IMSM evaluation")->capture_default_str();
  cmd->add_option("--target", options->target,
                  "The benchmark learned, the x of the learning-vs-forgetting picture (default: the first); the others are retention");
  cmd->add_option("--out", *out, "report.html, report.md or results.csv")->required();
  cmd->callback([&run, workspace, out, options] {
    run = [workspace, out, options] {
      const store::Workspace ws(*workspace, store::Workspace::Mode::ReadOnly);
      report::write_report(ws, *options, report_environment(), *out);
      log::info("report written to " + *out);
      return 0;
    };
  });
}

}  // namespace imsm::cli
