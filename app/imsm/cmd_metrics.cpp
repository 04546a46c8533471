// imsm metrics --task TASK --predictions FILE.jsonl [--json]
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "eval/metrics.h"
#include "io/json_file.h"

namespace imsm::cli {

void add_metrics(CLI::App& app, Run& run) {
  auto task = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("metrics", "Score a predictions file with the official IMSM metrics of a task");
  cmd->add_option("--task", *task, "gsm8k, mrpc, multirc, cola, ropes, webq or freebase")->required();
  cmd->add_option("--predictions", *path, "JSON lines {\"input\", \"output\" (gold), \"answer\" (the model's)}")->required();
  cmd->add_flag("--json", *json_out, "Print one JSON object");
  cmd->callback([&run, task, path, json_out] {
    run = [task, path, json_out] {
      official_metrics(*task);  // an unknown task fails before the file is read
      const auto examples = read_predictions(*path);
      const auto scores = score_task(*task, examples);
      if (*json_out) {
        nlohmann::ordered_json j = {{"task", *task}, {"examples", examples.size()}};
        for (const auto& m : official_metrics(*task)) j[m] = scores.at(m);
        if (scores.count("Accuracy")) j["Accuracy"] = scores.at("Accuracy");
        std::cout << j.dump() << "\n";
        return 0;
      }
      std::printf("%s: %zu examples\n", task->c_str(), examples.size());
      for (const auto& m : official_metrics(*task)) std::printf("%-10s %.4f\n", m.c_str(), scores.at(m));
      if (scores.count("Accuracy")) std::printf("%-10s %.4f  (stricter: %s)\n", "Accuracy", scores.at("Accuracy"),
                                                *task == "gsm8k" ? "the final number equals the gold's" : "yes/no label equals the gold's");
      return 0;
    };
  });
}

}  // namespace imsm::cli
