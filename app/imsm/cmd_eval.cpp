// imsm eval --model DIR [--adapter DIR] --dataset FILE --task TASK [--predictions OUT.jsonl] [...]
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "eval/metrics.h"
#include "io/json_file.h"
#include "progress_bar.h"
#include "recipes/eval.h"

namespace imsm::cli {

void add_eval(CLI::App& app, Run& run) {
  auto req = std::make_shared<EvalRequest>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("eval", "Generate answers for a dataset (greedy, batched) and score them with the task's official metrics");
  cmd->add_option("--model", req->model_dir, "Hugging Face model folder")->required();
  cmd->add_option("--adapter", req->adapter_dir, "A PEFT adapter, or an IMSM adapter (both streams, gated)");
  cmd->add_option("--dataset", req->dataset, "JSON lines {\"input\", \"output\"}")->required();
  cmd->add_option("--task", req->task, "gsm8k, mrpc, multirc, cola, ropes, webq or freebase")->required();
  cmd->add_option("--predictions", req->predictions_out, "Write predictions {\"input\", \"output\", \"answer\"} here");
  cmd->add_option("--max-input-length", req->max_input_length)->capture_default_str();
  cmd->add_option("--max-new-tokens", req->max_new_tokens, "The max target length")->capture_default_str();
  cmd->add_option("--batch-size", req->batch_size)->capture_default_str();
  cmd->add_option("--limit", req->limit, "Score only the first N examples (0 = all)")->capture_default_str();
  cmd->add_option("--device", req->device)->capture_default_str();
  cmd->add_option("--dtype", req->dtype)->capture_default_str();
  cmd->add_flag("--json", *json_out, "Print the scores as one JSON object");
  cmd->callback([&run, req, json_out] {
    run = [req, json_out] {
      EvalResult r;
      {
        ProgressBar bar("eval");
        const auto start = std::chrono::steady_clock::now();
        Callbacks cb;
        cb.on_progress = [&](const Progress& p) {
          const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          bar.update(p.done, p.total, elapsed / std::max<int64_t>(1, p.done) * static_cast<double>(p.total - p.done), "");
        };
        r = run_eval(*req, cb);
      }
      if (*json_out) {
        nlohmann::ordered_json j = {{"task", req->task}, {"examples", r.examples.size()}};
        for (const auto& m : official_metrics(req->task)) j[m] = r.scores.at(m);
        if (r.scores.count("Accuracy")) j["Accuracy"] = r.scores.at("Accuracy");
        j["tokens_per_second"] = r.tokens_per_second;
        std::cout << j.dump() << "\n";
      } else {
        std::printf("%s: %zu examples, %.1f generated tokens/s\n", req->task.c_str(), r.examples.size(), r.tokens_per_second);
        for (const auto& m : official_metrics(req->task)) std::printf("%-10s %.4f\n", m.c_str(), r.scores.at(m));
        if (r.scores.count("Accuracy")) std::printf("%-10s %.4f\n", "Accuracy", r.scores.at("Accuracy"));
      }
      return 0;
    };
  });
}

}  // namespace imsm::cli
