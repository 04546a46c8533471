// imsm inspect-model --model DIR [--json]
#include <iostream>

#include "commands.h"
#include "views/inspect.h"

namespace imsm::cli {

void add_inspect_model(CLI::App& app, Run& run) {
  auto dir = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect-model", "Architecture, parameter count, dtype, memory estimate, tokenizer");
  cmd->add_option("--model", *dir, "Hugging Face model folder")->required();
  cmd->add_flag("--json", *json_out, "Print JSON instead of text");
  cmd->callback([&run, dir, json_out] {
    run = [dir, json_out] {
      const ModelInfo info = inspect_model(*dir);
      std::cout << (*json_out ? info.to_json().dump(2) + "\n" : info.to_text());
      return 0;
    };
  });
}

}  // namespace imsm::cli
