// The subcommands of `imsm`. Each registers its options on the app and returns
// the function that runs it once parsing succeeded.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace imsm::cli {

using Run = std::function<int()>;

void add_tokenize(CLI::App& app, Run& run);
void add_generate(CLI::App& app, Run& run);
void add_inspect_model(CLI::App& app, Run& run);
void add_create_model(CLI::App& app, Run& run);
void add_train(CLI::App& app, Run& run);
void add_metrics(CLI::App& app, Run& run);
void add_eval(CLI::App& app, Run& run);

}  // namespace imsm::cli
