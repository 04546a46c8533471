#include "recipes/evaluate_runs.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "store/workspace.h"
#include "util/error.h"
#include "views/run_table.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

struct TrainedRun {
  int64_t id = 0;
  std::string model_dir, adapter_dir;
  int64_t max_input_length = 512, max_output_length = 64;  // its training lengths
  std::string chat_template = "off";  // its training's prompt format; a run from before the key trained on bare prompts
};

TrainedRun trained_run(const store::Workspace& ws, int64_t id) {
  const store::RunRecord r = ws.run(id);  // BadInput when there is none
  const std::string name = "run " + std::to_string(id);
  if (r.kind != "train") throw_bad_input(name, "is an evaluation, not a training run: choose the run that trained the adapter");
  TrainedRun t{id, r.model_path, finished_adapter_of(r)};
  if (t.adapter_dir.empty()) throw_bad_input(name, "has not finished (" + std::string(status_name(r.status)) + "): it has no adapter to evaluate");
  if (!fs::is_regular_file(fs::path(t.adapter_dir) / "adapter_config.json"))
    throw_bad_input(name, "its adapter folder " + t.adapter_dir + " is gone (moved or deleted?)");
  if (!fs::is_regular_file(fs::path(t.model_dir) / "config.json"))
    throw_bad_input(name, "its base model " + t.model_dir + " is gone (moved or deleted?): put it back or re-add it to the workspace");
  const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
  if (config.is_object()) {
    if (config.contains("max_input_length") && config["max_input_length"].is_number_integer()) t.max_input_length = config["max_input_length"];
    if (config.contains("max_output_length") && config["max_output_length"].is_number_integer()) t.max_output_length = config["max_output_length"];
    if (config.contains("chat_template") && config["chat_template"].is_string()) t.chat_template = config["chat_template"];
  }
  return t;
}

// The runs grouped by base model, in the order their models first appear.
std::vector<std::vector<TrainedRun>> by_base_model(const std::vector<TrainedRun>& runs) {
  std::vector<std::vector<TrainedRun>> groups;
  for (const TrainedRun& t : runs) {
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return fs::equivalent(x.front().model_dir, t.model_dir); });
    if (g == groups.end()) groups.push_back({t});
    else g->push_back(t);
  }
  return groups;
}

EvalRequest dataset_request(const RunsEvalRequest& q, const TrainedRun& lengths_of, const std::string& model, const std::string& adapter) {
  EvalRequest r;
  r.source = {model, adapter, q.device, q.dtype};
  r.dataset = q.dataset;
  r.task = q.task;
  r.limit = q.limit;
  r.full_gate = q.full_gate;
  r.max_input_length = q.max_input_length > 0 ? q.max_input_length : lengths_of.max_input_length;
  r.max_new_tokens = q.max_new_tokens > 0 ? q.max_new_tokens : lengths_of.max_output_length;
  r.chat.key = lengths_of.chat_template;  // the base model too: prompts as its runs were trained on
  return r;
}

void check_request(const RunsEvalRequest& q) {
  if (q.run_ids.empty()) throw_bad_input("runs", "choose at least one finished training run to evaluate");
  if (q.suite.empty() == q.dataset.empty()) throw_bad_input("suite", "give a suite, or a dataset and its task (not both)");
  if (!q.suite.empty()) {
    read_suite(q.suite);  // every key checked, naming the file
    return;
  }
  if (!fs::is_regular_file(q.dataset)) throw_bad_input(q.dataset, "no such dataset file");
  official_metrics(q.task);  // BadInput for an unknown task, listing the known ones
  if (q.limit < 0) throw_bad_input("limit", "must be 0 (every example) or more");
}

}  // namespace

size_t RunsEvalPlan::subjects() const {
  size_t n = evals.size();
  for (const auto& s : suites) n += 1 + s.adapters.size();
  return n;
}

RunsEvalPlan plan_runs_eval(const RunsEvalRequest& q) {
  check_request(q);
  std::vector<TrainedRun> runs;
  {
    const store::Workspace ws(q.workspace, store::Workspace::Mode::ReadOnly);
    for (const int64_t id : q.run_ids)
      if (std::none_of(runs.begin(), runs.end(), [&](const TrainedRun& t) { return t.id == id; })) runs.push_back(trained_run(ws, id));
  }
  RunsEvalPlan plan;
  for (const auto& group : by_base_model(runs)) {
    const std::string& model = group.front().model_dir;
    if (!q.suite.empty()) {
      SuiteRequest s;
      s.suite = q.suite;
      s.model_dir = model;
      s.workspace = q.workspace;
      s.device = q.device;
      s.dtype = q.dtype;
      s.full_gate = q.full_gate;
      s.chat_template = group.front().chat_template;
      for (const TrainedRun& t : group) s.adapters.push_back(t.adapter_dir);
      if (q.reuse) s.reuse = finished_suite_runs(s);
      plan.suites.push_back(std::move(s));
      continue;
    }
    if (q.base) {
      plan.evals.push_back(dataset_request(q, group.front(), model, ""));
      plan.labels.push_back("base " + fs::path(model).filename().string());
    }
    for (const TrainedRun& t : group) {
      plan.evals.push_back(dataset_request(q, t, model, t.adapter_dir));
      plan.labels.push_back("run " + std::to_string(t.id));
    }
  }
  return plan;
}

RunsEvalResult run_runs_eval(const RunsEvalRequest& q, const Hooks& hooks) {
  const RunsEvalPlan plan = plan_runs_eval(q);
  RunsEvalResult out;
  out.labels = plan.labels;
  size_t reused = 0;
  for (const SuiteRequest& s : plan.suites) {
    hooks.check_abort("evaluation cancelled");
    out.suites.push_back(run_suite(s, hooks));
    const auto& ids = out.suites.back().run_ids;
    out.eval_run_ids.insert(out.eval_run_ids.end(), ids.begin(), ids.end());
    reused += static_cast<size_t>(std::count_if(s.reuse.begin(), s.reuse.end(), [](int64_t id) { return id != 0; }));
  }
  for (size_t k = 0; k < plan.evals.size(); ++k) {
    hooks.check_abort("evaluation cancelled");
    const EvalRequest& r = plan.evals[k];
    Hooks staged = hooks;
    staged.on_progress = [&](const Progress& p) {
      hooks.progress({plan.labels[k] + ": " + fs::path(r.dataset).stem().string(), p.done, p.total,
                      std::to_string(k + 1) + "/" + std::to_string(plan.evals.size()), p.eta_seconds});
    };
    RecordedEval recorded = run_eval_recorded(q.workspace, r, staged);
    out.eval_run_ids.push_back(recorded.run_id);
    out.scores.push_back(std::move(recorded.result.scores));
  }
  const size_t n = plan.subjects();
  out.summary = std::to_string(n) + (n == 1 ? " evaluation" : " evaluations") + (reused ? " (" + std::to_string(reused) + " reused)" : "") + " of " +
                (q.suite.empty() ? fs::path(q.dataset).filename().string() : "suite " + out.suites.front().suite.name);
  return out;
}

}  // namespace imsm
