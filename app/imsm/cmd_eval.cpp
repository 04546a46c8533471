// imsm eval --model DIR [--adapter DIR] --dataset FILE --task TASK [--predictions OUT.jsonl] [--workspace FILE] [--mix-alpha A,B,..] [...]
// imsm eval --model DIR --suite FILE [--adapter DIR ...] [--workspace FILE]
// imsm eval --workspace FILE --run ID [--run ID ...] (--suite FILE | --dataset FILE --task TASK): training runs and their base models
#include <chrono>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "setting_flags.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "eval/metrics.h"
#include "progress_bar.h"
#include "recipes/eval_record.h"
#include "recipes/evaluate_runs.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm::cli {

namespace {

struct EvalArgs {
  EvalRequest request;
  std::vector<std::string> adapters;
  std::vector<int64_t> runs;
  bool input_length_given = false, new_tokens_given = false;  // --run: else the run's training lengths
  std::string suite, workspace;
  bool json = false;
};

// A progress callback drawing `bar`, with an ETA from the rate so far (per stage).
Hooks progress_to(ProgressBar& bar) {
  Hooks cb;
  auto stage = std::make_shared<std::string>();
  auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  cb.on_progress = [&bar, stage, start](const Progress& p) {
    if (p.stage != *stage) {
      *stage = p.stage;
      *start = std::chrono::steady_clock::now();
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
    bar.update(p.done, p.total, elapsed / std::max<int64_t>(1, p.done) * static_cast<double>(p.total - p.done), p.stage);
  };
  return cb;
}

int eval_one(const EvalArgs& a) {
  EvalRequest r = a.request;
  if (a.adapters.size() > 1) throw_bad_input("--adapter", "one adapter per dataset evaluation; compare several with --suite");
  if (!a.adapters.empty()) r.source.adapter_dir = a.adapters.front();
  if (r.dataset.empty() || r.task.empty()) throw_bad_input("eval", "give --dataset and --task, or --suite");
  if (!r.mix_alphas.empty() && r.source.adapter_dir.empty()) throw_bad_input("--mix-alpha", "mixes an adapter's two streams: give --adapter");
  check_mix_alphas(r.mix_alphas);  // before a workspace records anything
  if (!dist::launch_from_environment().writer())  // a torchrun rank other than 0: generates its share, says nothing
    return run_as_follower([&](const Hooks& hooks) { run_eval_mixes(r, hooks); });
  std::vector<RecordedEval> results;  // one per α along --mix-alpha; run ids 0 without a workspace
  {
    ProgressBar bar("eval");
    const Hooks cb = progress_to(bar);
    if (a.workspace.empty()) {
      for (EvalResult& e : run_eval_mixes(r, cb)) results.push_back({0, std::move(e)});
    } else {
      results = run_eval_recorded_mixes(a.workspace, r, cb);
    }
  }
  std::vector<std::string> names = official_metrics(r.task);
  for (const char* extra : {"Accuracy", "Perplexity"})
    if (results.front().result.scores.count(extra)) names.push_back(extra);
  for (size_t k = 0; k < results.size(); ++k) {
    const EvalResult& result = results[k].result;
    const int64_t run_id = results[k].run_id;
    if (a.json) {
      nlohmann::ordered_json j = {{"task", r.task}, {"examples", result.examples.size()}};
      if (!r.mix_alphas.empty()) j["mix_alpha"] = r.mix_alphas[k];
      for (const auto& m : names) j[m] = result.scores.at(m);
      j["tokens_per_second"] = result.tokens_per_second;
      if (run_id) j["run_id"] = run_id;
      std::cout << j.dump() << "\n";
      continue;
    }
    if (r.mix_alphas.empty()) {
      std::printf("%s: %zu examples, %.1f generated tokens/s\n", r.task.c_str(), result.examples.size(), result.tokens_per_second);
      for (const auto& m : names) std::printf("%-10s %.4f\n", m.c_str(), result.scores.at(m));
    } else {  // a row per α
      if (k == 0) {
        std::printf("%s: %zu examples at %zu mixes, %.1f generated tokens/s\n%-6s", r.task.c_str(), result.examples.size(), results.size(),
                    result.tokens_per_second, "alpha");
        for (const auto& m : names) std::printf("  %10s", m.c_str());
        std::printf("\n");
      }
      std::printf("%-6g", r.mix_alphas[k]);
      for (const auto& m : names) std::printf("  %10.4f", result.scores.at(m));
      std::printf(run_id ? "  (run %lld)\n" : "\n", static_cast<long long>(run_id));
    }
    if (run_id && r.mix_alphas.empty()) log::info("recorded as run " + std::to_string(run_id) + " in " + a.workspace);
  }
  return 0;
}

void print_suite(const SuiteResult& s, bool json, const std::string& workspace) {
  if (json) {
    nlohmann::ordered_json j = {{"suite", s.suite.name}, {"benchmarks", nlohmann::ordered_json::array()}};
    for (size_t i = 0; i < s.suite.benchmarks.size(); ++i) {
      const auto& b = s.suite.benchmarks[i];
      nlohmann::ordered_json row = {{"name", b.name}, {"metric", b.metric}, {"base", s.base.scores[i]}};
      for (const auto& sub : s.subjects) row[sub.label] = {{"score", sub.scores[i]}, {"change", sub.scores[i] - s.base.scores[i]}};
      j["benchmarks"].push_back(row);
    }
    j["average"] = {{"base", suite_average(s.suite, s.base.scores)}};
    for (const auto& sub : s.subjects) j["average"][sub.label] = suite_average(s.suite, sub.scores);
    if (!s.run_ids.empty()) j["run_ids"] = s.run_ids;
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << "suite " << s.suite.name << ": score (change from the base model)\n" << format_table(s.table);
  if (!s.run_ids.empty()) {
    std::string ids;
    for (int64_t id : s.run_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    log::info("recorded as runs " + ids + " in " + workspace);
  }
}

// --run: the workspace's training runs (their adapters and base models).
int eval_runs(const EvalArgs& a) {
  if (a.workspace.empty()) throw_bad_input("--run", "names a run of a workspace: give --workspace too");
  if (!a.request.source.model_dir.empty() || !a.adapters.empty())
    throw_bad_input("--run", "a run brings its own base model and adapter: give --run or --model/--adapter, not both");
  if (!dist::launch_from_environment().writer()) throw_bad_input("--run", "evaluates in one process (use --model and --adapter under torchrun)");
  RunsEvalRequest q;
  q.workspace = a.workspace;
  q.run_ids = a.runs;
  q.suite = a.suite;
  q.dataset = a.request.dataset;
  q.task = a.request.task;
  q.limit = a.request.limit;
  if (a.input_length_given) q.max_input_length = a.request.max_input_length;
  if (a.new_tokens_given) q.max_new_tokens = a.request.max_new_tokens;
  q.device = a.request.source.device;
  q.dtype = a.request.source.dtype;
  q.full_gate = a.request.full_gate;
  RunsEvalResult result;
  {
    ProgressBar bar("eval");
    result = run_runs_eval(q, progress_to(bar));
  }
  for (const SuiteResult& s : result.suites) print_suite(s, a.json, a.workspace);
  for (size_t k = 0; k < result.scores.size(); ++k) {
    if (a.json) {
      nlohmann::ordered_json j = {{"subject", result.labels[k]}, {"run_id", result.eval_run_ids[k]}};
      for (const auto& [metric, value] : result.scores[k]) j[metric] = value;
      std::cout << j.dump() << "\n";
      continue;
    }
    std::printf("%s:", result.labels[k].c_str());
    for (const auto& [metric, value] : result.scores[k]) std::printf("  %s %.4f", metric.c_str(), value);
    std::printf("  (run %lld)\n", static_cast<long long>(result.eval_run_ids[k]));
  }
  log::info(result.summary + ", recorded in " + a.workspace);
  return 0;
}

int eval_suite(const EvalArgs& a) {
  if (!a.request.dataset.empty()) throw_bad_input("--dataset", "give either --dataset or --suite, not both");
  SuiteRequest q;
  q.suite = a.suite;
  q.model_dir = a.request.source.model_dir;
  q.adapters = a.adapters;
  q.workspace = a.workspace;
  q.device = a.request.source.device;
  q.dtype = a.request.source.dtype;
  q.full_gate = a.request.full_gate;
  q.chat_template = a.request.chat.key;
  if (!dist::launch_from_environment().writer()) {  // a torchrun rank other than 0: its share of every benchmark, silently
    q.workspace.clear();
    return run_as_follower([&](const Hooks& hooks) { run_suite(q, hooks); });
  }
  SuiteResult s;
  {
    ProgressBar bar("suite");
    s = run_suite(q, progress_to(bar));
  }
  print_suite(s, a.json, a.workspace);
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, Run& run) {
  auto a = std::make_shared<EvalArgs>();
  EvalRequest& req = a->request;
  CLI::App* cmd = app.add_subcommand("eval", "Generate answers (greedy, batched) and score them: one dataset, or a suite for the forgetting table");
  cmd->add_option("--model", req.source.model_dir, "Hugging Face model folder (not with --run)");
  cmd->add_option("--adapter", a->adapters, "A PEFT adapter, or an IMSM adapter (both streams, gated); with --suite, several");
  cmd->add_option("--dataset", req.dataset, "JSON lines {\"input\", \"output\"}");
  cmd->add_option("--task", req.task, "gsm8k, mrpc, multirc, cola, ropes, webq or freebase");
  cmd->add_option("--run", a->runs,
                  "A finished training run of --workspace: its adapter, its base model and (with --dataset) its training lengths "
                  "unless given (several: --run 3 --run 4)");
  cmd->add_option("--suite", a->suite, "Benchmark suite (JSON): scores of the base model and of each adapter, with the change");
  cmd->add_option("--predictions", req.predictions_out, "Write predictions {\"input\", \"output\", \"answer\"} here");
  cmd->add_option("--workspace", a->workspace, "Record scores, predictions and per-token gate traces in this SQLite workspace");
  cmd->add_option("--max-input-length", req.max_input_length)->capture_default_str();
  cmd->add_option("--max-new-tokens", req.max_new_tokens, "The max target length")->capture_default_str();
  cmd->add_option("--batch-size", req.batch_size)->capture_default_str();
  cmd->add_option("--limit", req.limit, "Score only the first N examples (0 = all)")->capture_default_str();
  add_device_flag(cmd, req.source.device);
  add_dtype_flag(cmd, req.source.dtype, "auto, f32, bf16 or f16 (auto: the checkpoint's on CUDA; on CPU bf16 for 100M+ parameters where the CPU has bf16 instructions, else f32)");
  cmd->add_flag("--perplexity", req.perplexity, "Also the perplexity of the gold answers");
  cmd->add_option("--chat-template", req.chat.key,
                  "auto (the model's chat template when it has one), on, off (bare prompts, as the official code) or a template file; "
                  "with --run, each run's own")
      ->capture_default_str();
  cmd->add_flag("--full-gate", req.full_gate, "Record each generated token's whole gate vector (float16), not only its mean");
  cmd->add_option("--mix-alpha", req.mix_alphas,
                  "Evaluate the adapter along fixed mixes h = a*h_M + (1-a)*h_M' (0: the tuned model, 1: the original; WiSE-FT), "
                  "every a in one pass over the data, e.g. 0,0.25,0.5,0.75,1 (one dataset)")
      ->delimiter(',');
  cmd->add_flag("--json", a->json, "Print the scores as one JSON object (one per line along --mix-alpha)");
  cmd->callback([&run, a, cmd] {
    a->input_length_given = cmd->count("--max-input-length") > 0;
    a->new_tokens_given = cmd->count("--max-new-tokens") > 0;
    run = [a] {
      if (!a->workspace.empty()) store::Workspace check(a->workspace);  // refused before any work starts
      if (!a->request.mix_alphas.empty() && (!a->runs.empty() || !a->suite.empty()))
        throw_bad_input("--mix-alpha", "evaluates one adapter on one dataset: give --adapter, --dataset and --task (not --run or --suite)");
      if (!a->runs.empty()) return eval_runs(*a);
      if (a->request.source.model_dir.empty()) throw_bad_input("--model", "give the model folder to evaluate (or --run with --workspace)");
      return a->suite.empty() ? eval_one(*a) : eval_suite(*a);
    };
  });
}

}  // namespace imsm::cli
