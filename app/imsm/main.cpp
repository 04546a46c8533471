// imsm: the IMSM Workbench engine on the command line.
// Exit codes: 0 success, 2 bad input or usage, 1 internal error, 130 cancelled.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "progress_bar.h"
#include "recipes/environment.h"
#include "util/error.h"
#include "util/log.h"
#include "util/utf8.h"

namespace {
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"imsm: fine-tune open LLMs with IMSM and measure what they forget (IMSM Workbench engine)", "imsm"};
  app.set_version_flag("--version", "imsm " + imsm::engine_version() + " (LibTorch " + imsm::torch_version() +
                                        (imsm::cuda_available() ? ", CUDA available" : ", CPU only") + ")");
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "More messages on stderr");
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  bool events = false;
  app.add_flag("--events", events, "Progress, steps and events also as JSON lines on stdout (train, runs resume, project: for programs that drive imsm)");

  imsm::cli::Run run;
  imsm::cli::add_tokenize(app, run);
  imsm::cli::add_generate(app, run);
  imsm::cli::add_arena(app, run);
  imsm::cli::add_inspect_model(app, run);
  imsm::cli::add_create_model(app, run);
  imsm::cli::add_train(app, run);
  imsm::cli::add_metrics(app, run);
  imsm::cli::add_eval(app, run);
  imsm::cli::add_runs(app, run);
  imsm::cli::add_make_data(app, run);
  imsm::cli::add_make_rehearsal(app, run);
  imsm::cli::add_pretrain(app, run);
  imsm::cli::add_report(app, run);
  imsm::cli::add_project(app, run);
  imsm::cli::add_env(app, run);
  imsm::cli::add_export(app, run);
  imsm::cli::add_diagnose(app, run);
  imsm::cli::add_import_gguf(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "imsm: " << imsm::utf8::printable(first_line(e.what())) << " (see imsm --help)\n";
    return 2;
  }
  imsm::cli::set_event_lines(events);
  imsm::log::set_level(quiet ? imsm::log::Level::Warn : verbose ? imsm::log::Level::Debug : imsm::log::Level::Info);
  try {
    return run();
  } catch (const imsm::Error& e) {
    std::cerr << "imsm: error: " << first_line(e.what()) << "\n";
    if (e.kind() == imsm::ErrorKind::BadInput) return 2;
    if (e.kind() == imsm::ErrorKind::Cancelled) return 130;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "imsm: internal error: " << imsm::utf8::printable(first_line(e.what())) << "\n";
    return 1;
  }
}
