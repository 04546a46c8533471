#include "recipes/validation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>

#include "eval/metrics.h"
#include "io/json_file.h"
#include "recipes/eval.h"
#include "util/error.h"

namespace imsm {

namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

std::string held_out_task(const TrainConfig& c) {
  if (!c.eval_task.empty()) return c.eval_task;
  for (const std::string& name : {lower(c.dataset), lower(c.test_data_path)})
    for (const std::string& task : official_tasks())
      if (name.find(task) != std::string::npos) return task;
  return "";
}

ValidationPlan validation_plan(const TrainConfig& c, const std::function<bool(const std::string&)>& made_later) {
  auto later = [&](const std::string& path) { return made_later && !std::filesystem::is_regular_file(path) && made_later(path); };
  ValidationPlan plan;
  plan.every_steps = c.eval_steps;
  plan.batch_size = c.batch_size;
  plan.best_metric = c.best_metric;
  plan.patience = c.early_stopping_patience;
  if (!c.test_data_path.empty()) {
    if (!std::filesystem::is_regular_file(c.test_data_path) && !later(c.test_data_path))  // before training, not at the first epoch's end
      throw_bad_input(c.test_data_path, "test_data_path: no such file (the held-out set evaluated during training)");
    const std::string task = held_out_task(c);
    if (task.empty())
      throw_bad_input("eval_task", "name the task of test_data_path " + c.test_data_path +
                                       " (gsm8k, mrpc, multirc, cola, ropes, webq, freebase): its metrics depend on it");
    const std::vector<std::string> metrics = reported_metrics(task);  // BadInput for an unknown task
    plan.sets.push_back({kHeldOut, c.test_data_path, task, metrics.front(), c.max_output_length, c.max_input_length, c.eval_examples});
    plan.held_out = true;
    if (c.best_metric != "loss" && std::find(metrics.begin(), metrics.end(), c.best_metric) == metrics.end()) {
      std::string names = "loss";
      for (const auto& m : metrics) names += ", " + m;
      throw_bad_input("best_metric", "\"" + c.best_metric + "\" is not a score of the held-out set (" + names + ")");
    }
  } else if (c.early_stopping_patience > 0) {
    throw_bad_input("early_stopping_patience", "needs a held-out set to watch: set test_data_path");
  }
  const bool suite_later = !c.eval_suite.empty() && later(c.eval_suite);
  if (!c.eval_suite.empty() && !suite_later) {
    const Suite suite = read_suite(c.eval_suite);
    for (Benchmark b : suite.benchmarks) {
      if (b.name == kHeldOut) throw_bad_input(c.eval_suite, "a benchmark named \"held-out\" would be confused with test_data_path");
      if (c.eval_examples > 0 && (b.limit == 0 || b.limit > c.eval_examples)) b.limit = c.eval_examples;
      plan.sets.push_back(b);
    }
  }
  if (plan.empty() && !suite_later && c.eval_steps > 0) throw_bad_input("eval_steps", "there is nothing to evaluate: set test_data_path or eval_suite");
  return plan;
}

std::vector<ValidationRecord> validate(const ValidationPlan& plan, const LlamaModel& model, const Tokenizer& tokenizer, const ImsmGate* gate,
                                       dist::ProcessGroup* group, int64_t step, int64_t epoch, const Hooks& hooks) {
  std::vector<ValidationRecord> out;
  for (size_t i = 0; i < plan.sets.size(); ++i) {
    const Benchmark& b = plan.sets[i];
    const bool held_out = plan.held_out && i == 0;
    EvalRequest r;
    r.batch_size = plan.batch_size;
    r.chat = plan.chat;
    r = for_benchmark(r, b);
    r.perplexity = r.perplexity || held_out;  // the held-out loss
    Hooks progress = hooks;
    progress.on_progress = [&](const Progress& p) {
      hooks.progress({"validating", p.done, p.total, b.name + " at step " + std::to_string(step)});
    };
    const EvalResult result = evaluate_model(model, tokenizer, gate, r, group, progress);
    if (held_out) {
      out.push_back({step, epoch, b.name, "Loss", std::log(result.scores.at("Perplexity"))});  // nats per answer token
      for (const std::string& m : reported_metrics(b.task)) out.push_back({step, epoch, b.name, m, result.scores.at(m)});
    } else {
      out.push_back({step, epoch, b.name, b.metric, result.scores.at(b.metric)});
    }
  }
  return out;
}

EarlyStopping::EarlyStopping(const ValidationPlan& plan)
    : metric_(plan.best_metric == "loss" ? "Loss" : plan.best_metric), higher_is_better_(plan.best_metric != "loss"), patience_(plan.patience) {}

bool EarlyStopping::observe(const std::vector<ValidationRecord>& records) {
  const auto it = std::find_if(records.begin(), records.end(), [&](const ValidationRecord& r) { return r.benchmark == kHeldOut && r.metric == metric_; });
  if (it == records.end()) return false;
  const bool better = std::isfinite(it->value) && (best_step_ == 0 || (higher_is_better_ ? it->value > best_ : it->value < best_));
  if (better) {
    best_ = it->value;
    best_step_ = it->step;
    since_best_ = 0;
  } else {
    ++since_best_;
  }
  return better;
}

nlohmann::json EarlyStopping::state() const { return {{"metric", metric_}, {"best", best_}, {"best_step", best_step_}, {"since_best", since_best_}}; }

void EarlyStopping::load_state(const nlohmann::json& j, const std::string& where) {
  if (json::get_string(j, "metric", where) != metric_)
    throw_bad_input(where, "the checkpoint watched " + json::get_string(j, "metric", where) + ", this run best_metric " + metric_);
  best_ = json::get_number_or(j, "best", 0.0, where);
  best_step_ = json::get_int(j, "best_step", where);
  since_best_ = json::get_int(j, "since_best", where);
}

}  // namespace imsm
