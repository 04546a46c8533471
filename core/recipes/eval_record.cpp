#include "recipes/eval_record.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "recipes/run_life.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

std::string absolute(const std::string& p) { return p.empty() ? p : fs::absolute(p).lexically_normal().string(); }

nlohmann::json request_json(const EvalRequest& r) {
  return {{"model", absolute(r.source.model_dir)}, {"adapter", absolute(r.source.adapter_dir)}, {"dataset", absolute(r.dataset)}, {"task", r.task},
          {"max_input_length", r.max_input_length}, {"max_new_tokens", r.max_new_tokens}, {"batch_size", r.batch_size},
          {"limit", r.limit}, {"full_gate", r.full_gate}, {"perplexity", r.perplexity}, {"device", r.source.device},
          {"dtype", r.source.dtype}, {"decoding", "greedy"}};
}

std::string adapter_label(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (p.filename() == "adapter" && p.has_parent_path()) return p.parent_path().filename().string();
  return p.filename().string();
}

// Scores, then predictions with their traces in chunks (short write transactions).
void record_results(store::Workspace& ws, int64_t run_id, const std::string& benchmark, const EvalRequest& r, const EvalResult& result) {
  std::vector<store::Evaluation> rows;  // the official metrics first, in their order
  std::vector<std::string> names = official_metrics(r.task);
  for (const auto& [metric, value] : result.scores)
    if (std::find(names.begin(), names.end(), metric) == names.end()) names.push_back(metric);
  for (const auto& metric : names)
    rows.push_back({benchmark, r.task, metric, result.scores.at(metric), static_cast<int64_t>(result.examples.size()), ""});
  ws.add_evaluations(run_id, r.dataset, rows);
  constexpr size_t kChunk = 128;
  for (size_t start = 0; start < result.examples.size(); start += kChunk) {
    std::vector<store::Prediction> chunk;
    for (size_t i = start; i < std::min(result.examples.size(), start + kChunk); ++i) {
      const auto& e = result.examples[i];
      store::Prediction p{static_cast<int64_t>(i), e.input, e.golds, e.answer, {}};
      for (const auto& t : e.tokens) p.tokens.push_back({t.id, t.piece, t.gate_mean, t.gate});
      chunk.push_back(std::move(p));
    }
    ws.add_predictions(run_id, benchmark, chunk);
  }
}

int64_t create_eval_run(store::Workspace& ws, const EvalRequest& r, const std::string& name, const nlohmann::json& config) {
  store::NewRun run;
  run.kind = "eval";
  run.name = name;
  run.model_path = r.source.model_dir;
  run.dataset_path = r.dataset;
  run.config_json = config.dump();
  run.device = r.source.device;
  if (!r.source.adapter_dir.empty()) run.parent_run_id = ws.run_of_adapter(r.source.adapter_dir).value_or(0);
  return ws.create_run(run);
}

}  // namespace

RecordedEval run_eval_recorded(const std::string& workspace, const EvalRequest& request, const Hooks& hooks) {
  store::Workspace ws(workspace);
  const std::string benchmark = fs::path(request.dataset).stem().string();
  RecordedEval out;
  out.run_id = create_eval_run(ws, request, benchmark + " " + (request.source.adapter_dir.empty() ? "base" : adapter_label(request.source.adapter_dir)),
                               request_json(request));
  record_run(ws, out.run_id, [&] {
    out.result = run_eval(request, hooks);
    record_results(ws, out.run_id, benchmark, request, out.result);
    return RunEnd{};
  });
  return out;
}

SuiteResult run_suite(const SuiteRequest& q, const Hooks& hooks) {
  SuiteResult out;
  out.suite = read_suite(q.suite);
  for (const auto& a : q.adapters)
    if (!fs::is_directory(a)) throw_bad_input(a, "no such adapter folder");
  std::unique_ptr<store::Workspace> ws;
  if (!q.workspace.empty()) ws = std::make_unique<store::Workspace>(q.workspace);

  std::vector<std::string> subjects = {""};
  subjects.insert(subjects.end(), q.adapters.begin(), q.adapters.end());
  for (const auto& adapter : subjects) {
    SubjectScores scores;
    scores.label = adapter.empty() ? "base" : adapter_label(adapter);
    if (ws && !adapter.empty())
      if (const auto parent = ws->run_of_adapter(adapter)) scores.label = "run " + std::to_string(*parent);
    EvalRequest r;
    r.source = {q.model_dir, adapter, q.device, q.dtype};
    r.full_gate = q.full_gate;
    r.batch_size = out.suite.batch_size;
    int64_t run_id = 0;
    if (ws) {
      nlohmann::json config = request_json(r);
      config.erase("dataset");
      config.erase("task");
      config["suite"] = fs::absolute(q.suite).lexically_normal().string();
      config["benchmarks"] = nlohmann::json::array();
      for (const auto& b : out.suite.benchmarks)
        config["benchmarks"].push_back({{"name", b.name}, {"dataset", b.dataset}, {"task", b.task}, {"metric", b.metric},
                                        {"max_new_tokens", b.max_new_tokens}, {"max_input_length", b.max_input_length}, {"limit", b.limit}});
      run_id = create_eval_run(*ws, r, out.suite.name + " " + scores.label, config);
      out.run_ids.push_back(run_id);
    }
    auto evaluate_all = [&] {
      for (const auto& b : out.suite.benchmarks) {
        r.dataset = b.dataset;
        r.task = b.task;
        r.max_new_tokens = b.max_new_tokens;
        r.max_input_length = b.max_input_length;
        r.limit = b.limit;
        r.perplexity = b.metric == "Perplexity";
        Hooks staged = hooks;
        staged.on_progress = [&](const Progress& p) {
          hooks.progress({scores.label + ": " + b.name, p.done, p.total});
        };
        const EvalResult result = run_eval(r, staged);
        scores.scores.push_back(result.scores.at(b.metric));
        if (ws) record_results(*ws, run_id, b.name, r, result);
        log::debug(scores.label + " " + b.name + " " + b.metric + " = " + format_number(scores.scores.back()));
      }
    };
    if (ws) {
      record_run(*ws, run_id, [&] {
        evaluate_all();
        return RunEnd{};
      });
    } else {
      evaluate_all();
    }
    if (adapter.empty()) out.base = std::move(scores);
    else out.subjects.push_back(std::move(scores));
  }
  out.table = forgetting_table(out.suite, out.base, out.subjects);
  return out;
}

}  // namespace imsm
