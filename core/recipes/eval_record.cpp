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
          {"limit", r.limit}, {"full_gate", r.full_gate}, {"perplexity", r.perplexity}, {"device", r.source.device.text()},
          {"dtype", precisions().name(r.source.dtype)}, {"decoding", "greedy"}, {"chat_template", r.chat.key}};
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
  run.device = r.source.device.text();
  if (!r.source.adapter_dir.empty()) run.parent_run_id = ws.run_of_adapter(r.source.adapter_dir).value_or(0);
  return ws.create_run(run);
}

// A subject of a suite: the base model (adapter ""), an adapter as it is,
// or an adapter at a fixed mix α (SuiteRequest::mix_alphas).
struct SuiteSubject {
  std::string adapter;
  bool mixed = false;
  double alpha = 0;
};

// The subjects in order: the base model, then each adapter followed by its fixed mixes.
std::vector<SuiteSubject> subjects_of(const SuiteRequest& q) {
  std::vector<SuiteSubject> subjects = {{""}};
  for (const std::string& a : q.adapters) {
    subjects.push_back({a});
    const bool along = !q.mix_alphas.empty() &&
                       (q.mix_adapters.empty() || std::find(q.mix_adapters.begin(), q.mix_adapters.end(), a) != q.mix_adapters.end());
    if (along)
      for (double alpha : q.mix_alphas) subjects.push_back({a, true, alpha});
  }
  return subjects;
}

EvalRequest subject_request(const SuiteRequest& q, const Suite& suite, const SuiteSubject& subject) {
  EvalRequest r;
  r.source = {q.model_dir, subject.adapter, q.device, q.dtype};
  r.full_gate = q.full_gate && !subject.mixed;
  r.batch_size = suite.batch_size;
  r.chat.key = q.chat_template;
  return r;
}

// One subject's suite run as recorded: the request, the suite file and its benchmarks (no single dataset), the mix.
std::string suite_config(const SuiteRequest& q, const Suite& suite, const SuiteSubject& subject) {
  nlohmann::json config = request_json(subject_request(q, suite, subject));
  config.erase("dataset");
  config.erase("task");
  config["suite"] = fs::absolute(q.suite).lexically_normal().string();
  config["benchmarks"] = nlohmann::json::array();
  for (const auto& b : suite.benchmarks)
    config["benchmarks"].push_back({{"name", b.name}, {"dataset", b.dataset}, {"task", b.task}, {"metric", b.metric},
                                    {"max_new_tokens", b.max_new_tokens}, {"max_input_length", b.max_input_length}, {"limit", b.limit}});
  if (subject.mixed) config["mix_alpha"] = subject.alpha;
  return config.dump();
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

// A suite's evaluation under way: each subject's label, scores and run.
struct SuiteWork {
  const SuiteRequest& q;
  const Suite& suite;
  store::Workspace* ws;  // null: nothing recorded
  std::vector<SuiteSubject> subjects;
  std::vector<SubjectScores> scores;
  std::vector<int64_t> run_ids;  // 0: not recorded (yet)

  // Each subject's label ("base", "run 3", "run 3 α=0.5"); the scores of a
  // reused run (evaluated before, files unchanged) read back.
  void label_subjects() {
    scores.assign(subjects.size(), {});
    run_ids.assign(subjects.size(), 0);
    for (size_t k = 0; k < subjects.size(); ++k) {
      const SuiteSubject& subject = subjects[k];
      scores[k].label = subject.adapter.empty() ? "base" : adapter_label(subject.adapter);
      if (ws && !subject.adapter.empty())
        if (const auto parent = ws->run_of_adapter(subject.adapter)) scores[k].label = "run " + std::to_string(*parent);
      if (subject.mixed) scores[k].label += " α=" + mix_alpha_text(subject.alpha);
      run_ids[k] = q.reuse.empty() ? 0 : q.reuse[k];
      if (run_ids[k] && ws) scores[k].scores = recorded_scores(*ws, run_ids[k], suite);
    }
  }

  // Groups evaluated together: one subject, or an adapter's fixed mixes not
  // read back (one pass for all of them).
  std::vector<std::vector<size_t>> groups() const {
    std::vector<std::vector<size_t>> out;
    for (size_t k = 0; k < subjects.size();) {
      std::vector<size_t> group;
      size_t end = k + 1;
      if (subjects[k].mixed)
        while (end < subjects.size() && subjects[end].mixed && subjects[end].adapter == subjects[k].adapter) ++end;
      for (size_t i = k; i < end; ++i)
        if (!run_ids[i]) group.push_back(i);
      k = end;
      if (!group.empty()) out.push_back(std::move(group));
    }
    return out;
  }

  // A group on every benchmark, each subject a run of its own in the workspace.
  void evaluate(const std::vector<size_t>& group, const Hooks& hooks) {
    const SuiteSubject& first = subjects[group.front()];
    EvalRequest r = subject_request(q, suite, first);
    for (size_t i : group)
      if (subjects[i].mixed) r.mix_alphas.push_back(subjects[i].alpha);
    std::vector<int64_t> ids;
    if (ws)
      for (size_t i : group)
        ids.push_back(run_ids[i] = create_eval_run(*ws, r, suite.name + " " + scores[i].label,
                                                   nlohmann::json::parse(suite_config(q, suite, subjects[i]))));
    const std::string& label = scores[group.front()].label;
    const std::string stage = first.mixed ? label.substr(0, label.find(" α=")) + " along α" : label;
    auto evaluate_all = [&] {
      for (const auto& b : suite.benchmarks) {
        const EvalRequest here = for_benchmark(r, b);
        Hooks staged = hooks;
        staged.on_progress = [&](const Progress& p) { hooks.progress({stage + ": " + b.name, p.done, p.total}); };
        const std::vector<EvalResult> results = run_eval_mixes(here, staged);
        for (size_t m = 0; m < group.size(); ++m) {
          const size_t i = group[m];
          scores[i].scores.push_back(results[m].scores.at(b.metric));
          if (ws) record_results(*ws, run_ids[i], b.name, here, results[m]);
          log::debug(scores[i].label + " " + b.name + " " + b.metric + " = " + format_number(scores[i].scores.back()));
        }
      }
      return RunEnd{};
    };
    if (ws) record_runs(*ws, ids, evaluate_all);
    else evaluate_all();
  }
};

}  // namespace

std::vector<int64_t> finished_suite_runs(const SuiteRequest& q) {
  const Suite suite = read_suite(q.suite);
  const store::Workspace ws(q.workspace, store::Workspace::Mode::ReadOnly);
  std::set<std::string> files_now;  // every benchmark file's content now
  for (const auto& b : suite.benchmarks) files_now.insert(sha256_file(b.dataset));
  const std::vector<store::RunRecord> runs = ws.runs();
  std::vector<int64_t> out;
  for (const SuiteSubject& subject : subjects_of(q)) {
    const std::string config = suite_config(q, suite, subject);
    const int64_t parent = subject.adapter.empty() ? 0 : ws.run_of_adapter(subject.adapter).value_or(-1);
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

std::vector<RecordedEval> run_eval_recorded_mixes(const std::string& workspace, const EvalRequest& request, const Hooks& hooks) {
  store::Workspace ws(workspace);
  const std::string benchmark = fs::path(request.dataset).stem().string();
  const std::string name = benchmark + " " + (request.source.adapter_dir.empty() ? "base" : adapter_label(request.source.adapter_dir));
  // Along α: a run per α (config "mix_alpha"), all served by the one pass.
  auto config_of = [&](size_t mix) {
    nlohmann::json config = request_json(request);
    if (!request.mix_alphas.empty()) config["mix_alpha"] = request.mix_alphas[mix];
    return config;
  };
  auto name_of = [&](size_t mix) {
    if (request.mix_alphas.empty()) return name;
    return name + " α=" + mix_alpha_text(request.mix_alphas[mix]);
  };
  std::vector<RecordedEval> out(std::max<size_t>(1, request.mix_alphas.size()));
  std::vector<int64_t> ids;
  for (size_t m = 0; m < out.size(); ++m) ids.push_back(out[m].run_id = create_eval_run(ws, request, name_of(m), config_of(m)));
  record_runs(ws, ids, [&] {
    std::vector<EvalResult> results = run_eval_mixes(request, hooks);
    for (size_t m = 0; m < out.size(); ++m) {
      record_results(ws, ids[m], benchmark, request, results[m]);
      out[m].result = std::move(results[m]);
    }
    return RunEnd{};
  });
  return out;
}

RecordedEval run_eval_recorded(const std::string& workspace, const EvalRequest& request, const Hooks& hooks) {
  if (!request.mix_alphas.empty()) throw_internal("run_eval_recorded: a request along α goes to run_eval_recorded_mixes");
  return std::move(run_eval_recorded_mixes(workspace, request, hooks).front());
}

SuiteResult run_suite(const SuiteRequest& q, const Hooks& hooks) {
  SuiteResult out;
  out.suite = read_suite(q.suite);
  for (const auto& a : q.adapters)
    if (!fs::is_directory(a)) throw_bad_input(a, "no such adapter folder");
  std::unique_ptr<store::Workspace> ws;
  if (!q.workspace.empty()) ws = std::make_unique<store::Workspace>(q.workspace);

  SuiteWork work{q, out.suite, ws.get(), subjects_of(q), {}, {}};
  if (!q.reuse.empty() && q.reuse.size() != work.subjects.size()) throw_internal("run_suite: one reuse entry per subject");
  work.label_subjects();
  for (const std::vector<size_t>& group : work.groups()) work.evaluate(group, hooks);
  for (size_t k = 0; k < work.subjects.size(); ++k) {
    if (ws) out.run_ids.push_back(work.run_ids[k]);
    if (k == 0) out.base = std::move(work.scores[0]);
    else out.subjects.push_back(std::move(work.scores[k]));
  }
  const auto scored = [&](const SubjectScores& x) { return x.scores.size() == out.suite.benchmarks.size(); };
  if (scored(out.base) && std::all_of(out.subjects.begin(), out.subjects.end(), scored))  // not on a torchrun follower that skipped reused ones
    out.table = forgetting_table(out.suite, out.base, out.subjects);
  return out;
}

}  // namespace imsm
