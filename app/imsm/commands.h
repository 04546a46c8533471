// The subcommands of `imsm`. Each registers its options on the app and returns
// the function that runs it once parsing succeeded.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace imsm::cli {

using Run = std::function<int()>;

void add_tokenize(CLI::App& app, Run& run);
void add_generate(CLI::App& app, Run& run);
void add_arena(CLI::App& app, Run& run);
void add_inspect_model(CLI::App& app, Run& run);
void add_create_model(CLI::App& app, Run& run);
void add_train(CLI::App& app, Run& run);
void add_metrics(CLI::App& app, Run& run);
void add_eval(CLI::App& app, Run& run);
void add_runs(CLI::App& app, Run& run);
void add_make_data(CLI::App& app, Run& run);
void add_pretrain(CLI::App& app, Run& run);
void add_report(CLI::App& app, Run& run);
void add_project(CLI::App& app, Run& run);
void add_env(CLI::App& app, Run& run);
void add_export(CLI::App& app, Run& run);
void add_diagnose(CLI::App& app, Run& run);
void add_import_gguf(CLI::App& app, Run& run);
void add_make_rehearsal(CLI::App& app, Run& run);

}  // namespace imsm::cli

namespace imsm {
struct TrainSummary;
struct Hooks;
}  // namespace imsm

namespace imsm::cli {

// Trains with a progress bar and Ctrl-C handling, reports the outcome and
// returns the exit code (shared by `train` and `runs resume`); after a
// cancel, resume_hint(the last checkpoint, the run id) says how to go on.
int train_with_progress(const std::function<TrainSummary(const Hooks&, int64_t& run_id)>& train,
                        const std::function<std::string(const std::string& last_checkpoint, int64_t run_id)>& resume_hint);

}  // namespace imsm::cli
