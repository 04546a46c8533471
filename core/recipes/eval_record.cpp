#include "recipes/eval_record.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "recipes/run_life.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sha256.h"

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
    rows.push_back({benchmark, r.task, metric, result.scores.at(metric), static_cast<int64_t>(result.examples.size()), "", ""});
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

// One subject's suite run as recorded: the request, the suite file and its benchmarks (no single dataset).
std::string suite_config(const SuiteRequest& q, const Suite& suite, const EvalRequest& r) {
  nlohmann::json config = request_json(r);
  config.erase("dataset");
  config.erase("task");
  config["suite"] = fs::absolute(q.suite).lexically_normal().string();
  config["benchmarks"] = nlohmann::json::array();
  for (const auto& b : suite.benchmarks)
    config["benchmarks"].push_back({{"name", b.name}, {"dataset", b.dataset}, {"task", b.task}, {"metric", b.metric},
                                    {"max_new_tokens", b.max_new_tokens}, {"max_input_length", b.max_input_length}, {"limit", b.limit}});
  return config.dump();
}

// The subjects of a suite: the base model (""), then each adapter.
std::vector<std::string> subjects_of(const SuiteRequest& q) {
  std::vector<std::string> subjects = {""};
  subjects.insert(subjects.end(), q.adapters.begin(), q.adapters.end());
  return subjects;
}

EvalRequest subject_request(const SuiteRequest& q, const Suite& suite, const std::string& adapter) {
  EvalRequest r;
  r.source = {q.model_dir, adapter, q.device, q.dtype};
  r.full_gate = q.full_gate;
  r.batch_size = suite.batch_size;
  return r;
}

// Each benchmark's headline score as run `run_id` recorded it.
std::vector<double> recorded_scores(const store::Workspace& ws, int64_t run_id, const Suite& suite) {
  const auto evals = ws.evaluations(run_id);
  std::vector<double> out;
  for (const auto& b : suite.benchmarks) {
    const auto e = std::find_if(evals.begin(), evals.end(), [&](const store::Evaluation& x) { return x.benchmark == b.name && x.metric == b.metric; });
    if (e == evals.end()) throw_bad_input(ws.path(), "run " + std::to_string(run_id) + " has no " + b.name + " " + b.metric + " to reuse");
    out.push_back(e->value);
  }
  return out;
}

}  // namespace

std::vector<int64_t> finished_suite_runs(const SuiteRequest& q) {
  const Suite suite = read_suite(q.suite);
  const store::Workspace ws(q.workspace, store::Workspace::Mode::ReadOnly);
  std::set<std::string> files_now;  // every benchmark file's content now
  for (const auto& b : suite.benchmarks) files_now.insert(sha256_file(b.dataset));
  const std::vector<store::RunRecord> runs = ws.runs();
  std::vector<int64_t> out;
  for (const std::string& adapter : subjects_of(q)) {
    const std::string config = suite_config(q, suite, subject_request(q, suite, adapter));
    const int64_t parent = adapter.empty() ? 0 : ws.run_of_adapter(adapter).value_or(-1);
    int64_t found = 0;
    for (const auto& r : runs) {
      if (r.kind != "eval" || r.status != RunStatus::Finished || r.config_json != config || r.parent_run_id != parent) continue;
      const auto evals = ws.evaluations(r.id);
      const bool same_files = !evals.empty() && std::all_of(evals.begin(), evals.end(), [&](const store::Evaluation& e) {
        return files_now.count(e.dataset_sha256) > 0;
      });
      if (same_files) found = r.id;  // the latest
    }
    out.push_back(found);
  }
  return out;
}

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

  const std::vector<std::string> subjects = subjects_of(q);
  if (!q.reuse.empty() && q.reuse.size() != subjects.size()) throw_internal("run_suite: one reuse entry per subject");
  for (size_t k = 0; k < subjects.size(); ++k) {
    const std::string& adapter = subjects[k];
    SubjectScores scores;
    scores.label = adapter.empty() ? "base" : adapter_label(adapter);
    if (ws && !adapter.empty())
      if (const auto parent = ws->run_of_adapter(adapter)) scores.label = "run " + std::to_string(*parent);
    EvalRequest r = subject_request(q, out.suite, adapter);
    const int64_t reused = q.reuse.empty() ? 0 : q.reuse[k];
    if (reused) {  // evaluated before, files unchanged: read back (a process without the workspace skips it)
      if (ws) {
        scores.scores = recorded_scores(*ws, reused, out.suite);
        out.run_ids.push_back(reused);
      }
      if (adapter.empty()) out.base = std::move(scores);
      else out.subjects.push_back(std::move(scores));
      continue;
    }
    int64_t run_id = 0;
    if (ws) {
      run_id = create_eval_run(*ws, r, out.suite.name + " " + scores.label, nlohmann::json::parse(suite_config(q, out.suite, r)));
      out.run_ids.push_back(run_id);
    }
    auto evaluate_all = [&] {
      for (const auto& b : out.suite.benchmarks) {
        r = for_benchmark(r, b);
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
  const auto scored = [&](const SubjectScores& x) { return x.scores.size() == out.suite.benchmarks.size(); };
  if (scored(out.base) && std::all_of(out.subjects.begin(), out.subjects.end(), scored))  // not on a torchrun follower that skipped reused ones
    out.table = forgetting_table(out.suite, out.base, out.subjects);
  return out;
}

}  // namespace imsm
