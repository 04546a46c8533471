// Evaluation during training (recipes/validation.h): it leaves training alone
// (the same losses and adapter bit for bit), its last scores are those of
// `imsm eval` on the saved adapter, the best adapter is the checkpoint of the
// best step, early stopping counts evaluations as a hand-worked sequence
// says, and bad keys are named.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/train_config.h"
#include "io/json_file.h"
#include "recipes/eval.h"
#include "recipes/train.h"
#include "recipes/validation.h"
#include "test_util.h"
#include "train_fixtures.h"

using imsm::testing::expect_bad_input;
using imsm::testing::write_file;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Six copy examples the training data does not hold.
std::string held_out_file(const imsm::testing::TrainWorkspace& w) {
  std::string lines;
  for (const char* word : {"zeb", "qui", "man", "ivo", "tul", "ork"}) lines += std::string("{\"input\": \"copy ") + word + "\", \"output\": \"" + word + "\"}\n";
  const std::string path = w.dir.file("held-out.jsonl");
  write_file(path, lines);
  return path;
}

struct Seen {
  std::vector<imsm::ValidationRecord> scores;
  std::vector<imsm::RunEvent> best;
  imsm::Hooks hooks() {
    imsm::Hooks h;
    h.on_event = [this](const imsm::RunEvent& e) {
      if (e.kind == imsm::RunEvent::Kind::Validation) scores.push_back(e.validation);
      if (e.kind == imsm::RunEvent::Kind::BestAdapter) best.push_back(e);
    };
    return h;
  }
  std::vector<imsm::ValidationRecord> at(int64_t step, const std::string& metric) const {
    std::vector<imsm::ValidationRecord> out;
    for (const auto& s : scores)
      if (s.step == step && s.metric == metric) out.push_back(s);
    return out;
  }
};

}  // namespace

// 40 examples in batches of 8: 5 steps an epoch, 15 in all; eval_steps 4 and the epoch ends: steps 4, 5, 8, 10, 12, 15.
TEST(Validation, HeldOutScoresAreTheSavedAdaptersAndLeaveTrainingAlone) {
  imsm::testing::TrainWorkspace w;
  const std::string held_out = held_out_file(w);
  auto cfg = w.config(w.dir.file("plain"));
  const auto plain = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  cfg["output_dir"] = w.dir.file("validated");
  cfg["test_data_path"] = held_out;
  cfg["eval_task"] = "webq";
  cfg["eval_steps"] = 4;
  cfg["max_output_length"] = 6;
  Seen seen;
  const auto validated = imsm::run_train(imsm::parse_train_config(cfg, "test"), seen.hooks());
  // Training is the same, step for step and bit for bit.
  EXPECT_EQ(validated.losses, plain.losses);
  EXPECT_EQ(slurp(w.dir.file("validated/adapter/adapter_model.safetensors")), slurp(w.dir.file("plain/adapter/adapter_model.safetensors")));
  EXPECT_EQ(slurp(w.dir.file("validated/adapter/imsm_gate.safetensors")), slurp(w.dir.file("plain/adapter/imsm_gate.safetensors")));
  // Loss, EM and Contain at each evaluation point.
  std::vector<int64_t> steps;
  for (const auto& s : seen.scores)
    if (s.metric == "Loss") steps.push_back(s.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{4, 5, 8, 10, 12, 15}));
  EXPECT_EQ(seen.scores.size(), 18u);
  EXPECT_EQ(seen.at(12, "Loss").front().epoch, 2);
  // The last evaluation is `imsm eval` of the saved adapter: the same greedy answers (EM, Contain exactly) and the
  // answers' loss within 1e-6 nats (the same fp32 computation; only the path the weights took differs).
  imsm::EvalRequest r;
  r.source = {w.model, w.dir.file("validated/adapter"), imsm::DeviceSpec::cpu(), imsm::Precision::Auto};
  r.dataset = held_out;
  r.task = "webq";
  r.max_input_length = 512;
  r.max_new_tokens = 6;
  r.batch_size = 8;
  r.perplexity = true;
  const auto offline = imsm::run_eval(r);
  EXPECT_EQ(seen.at(15, "EM").front().value, offline.scores.at("EM"));
  EXPECT_EQ(seen.at(15, "Contain").front().value, offline.scores.at("Contain"));
  EXPECT_NEAR(seen.at(15, "Loss").front().value, std::log(offline.scores.at("Perplexity")), 1e-6);
  // The best adapter: the step of the lowest held-out loss, with that step's checkpoint's weights.
  int64_t best_step = 0;
  double best = INFINITY;
  for (const auto& s : seen.scores)
    if (s.metric == "Loss" && s.value < best) best = s.value, best_step = s.step;
  ASSERT_FALSE(seen.best.empty());
  EXPECT_EQ(seen.best.back().step, best_step);
  EXPECT_EQ(validated.best_step, best_step);
  EXPECT_EQ(validated.best_value, best);
  const auto best_json = imsm::json::read_file(w.dir.file("validated/best-adapter/best.json"));
  EXPECT_EQ(best_json["step"], best_step);
  EXPECT_EQ(best_json["metric"], "loss");
  const std::string checkpoint = w.dir.file("validated/checkpoint-" + std::to_string(best_step));
  EXPECT_EQ(slurp(w.dir.file("validated/best-adapter/adapter_model.safetensors")), slurp(checkpoint + "/adapter_model.safetensors"));
  EXPECT_EQ(slurp(w.dir.file("validated/best-adapter/imsm_gate.safetensors")), slurp(checkpoint + "/imsm_gate.safetensors"));
  EXPECT_FALSE(validated.stopped_early);
}

// Hand-worked: loss 1.0 (best), 0.9 (best), 0.95, 0.91: two evaluations without a better one stop a patience of 2;
// a NaN is never a best. Higher is better for a task metric. The state goes through a checkpoint and back.
TEST(Validation, EarlyStoppingCountsEvaluationsWithoutABetterScore) {
  imsm::ValidationPlan plan;
  plan.patience = 2;
  imsm::EarlyStopping loss(plan);
  auto at = [](int64_t step, const std::string& metric, double v) {
    return std::vector<imsm::ValidationRecord>{{step, 0, imsm::kHeldOut, metric, v}, {step, 0, "retention", metric, -v}};
  };
  EXPECT_TRUE(loss.observe(at(1, "Loss", 1.0)));
  EXPECT_TRUE(loss.observe(at(2, "Loss", 0.9)));
  EXPECT_FALSE(loss.observe(at(3, "Loss", 0.95)));
  EXPECT_FALSE(loss.should_stop());
  const auto saved = loss.state();
  EXPECT_FALSE(loss.observe(at(4, "Loss", NAN)));
  EXPECT_TRUE(loss.should_stop());
  EXPECT_EQ(loss.best_step(), 2);
  EXPECT_EQ(loss.best_value(), 0.9);
  imsm::EarlyStopping resumed(plan);
  resumed.load_state(saved, "checkpoint");
  EXPECT_FALSE(resumed.should_stop());
  EXPECT_FALSE(resumed.observe(at(4, "Loss", 0.91)));
  EXPECT_TRUE(resumed.should_stop());
  plan.best_metric = "EM";
  plan.patience = 0;  // never stops
  imsm::EarlyStopping em(plan);
  EXPECT_TRUE(em.observe(at(1, "EM", 0.2)));
  EXPECT_FALSE(em.observe(at(2, "EM", 0.1)));
  EXPECT_TRUE(em.observe(at(3, "EM", 0.3)));
  EXPECT_FALSE(em.should_stop());
  expect_bad_input([&] { em.load_state(saved, "checkpoint-7"); }, {"checkpoint-7", "Loss", "EM"});
}

// Patience 1, an evaluation every step, a rate that overshoots: the run stops at the first step whose held-out
// loss is not below the best before it — the recorded sequence says which — and reports it.
TEST(Validation, TrainingStopsEarlyWhereTheRecordedLossesSay) {
  imsm::testing::TrainWorkspace w;
  auto cfg = w.config(w.dir.file("early"));
  cfg["test_data_path"] = held_out_file(w);
  cfg["eval_task"] = "webq";
  cfg["eval_steps"] = 1;
  cfg["max_output_length"] = 4;
  cfg["early_stopping_patience"] = 1;
  cfg["learning_rate"] = 0.3;
  Seen seen;
  const auto s = imsm::run_train(imsm::parse_train_config(cfg, "test"), seen.hooks());
  std::vector<double> losses;
  for (const auto& r : seen.scores)
    if (r.metric == "Loss") losses.push_back(r.value);
  ASSERT_FALSE(losses.empty());
  size_t first_worse = losses.size();
  double best = losses[0];
  for (size_t i = 1; i < losses.size() && first_worse == losses.size(); ++i) {
    if (!(losses[i] < best)) first_worse = i;
    best = std::min(best, losses[i]);
  }
  ASSERT_LT(first_worse, losses.size()) << "the overshooting rate never raised the held-out loss";
  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(losses.size(), first_worse + 1);  // nothing evaluated after the stop
  EXPECT_EQ(s.steps, static_cast<int64_t>(first_worse + 1));
  EXPECT_LT(s.steps, s.total_steps);
  EXPECT_TRUE(std::filesystem::exists(w.dir.file("early/adapter/adapter_model.safetensors")));
}

TEST(Validation, BadKeysAreNamed) {
  imsm::testing::TrainWorkspace w;
  auto cfg = w.config(w.dir.file("bad"));
  cfg["test_data_path"] = held_out_file(w);  // "held-out.jsonl" names no task, nor does the dataset name
  expect_bad_input([&] { imsm::validation_plan(imsm::parse_train_config(cfg, "cfg.json")); }, {"eval_task", "gsm8k"});
  cfg["dataset"] = "llama3_lora_GSM8K";  // the official configs' dataset names carry the task
  EXPECT_EQ(imsm::held_out_task(imsm::parse_train_config(cfg, "cfg.json")), "gsm8k");
  cfg["eval_task"] = "webq";
  cfg["best_metric"] = "F1_score";
  expect_bad_input([&] { imsm::validation_plan(imsm::parse_train_config(cfg, "cfg.json")); }, {"best_metric", "F1_score", "loss, EM, Contain"});
  cfg = w.config(w.dir.file("bad"));
  cfg["early_stopping_patience"] = 2;
  expect_bad_input([&] { imsm::validation_plan(imsm::parse_train_config(cfg, "cfg.json")); }, {"early_stopping_patience", "test_data_path"});
  cfg = w.config(w.dir.file("bad"));
  cfg["eval_steps"] = 5;
  expect_bad_input([&] { imsm::validation_plan(imsm::parse_train_config(cfg, "cfg.json")); }, {"eval_steps", "nothing to evaluate"});
  cfg = w.config(w.dir.file("bad"));
  cfg["test_data_path"] = w.dir.file("dataset/GSM8K/data_test.json");  // an official config's path, not on this machine
  expect_bad_input([&] { imsm::run_train(imsm::parse_train_config(cfg, "cfg.json")); }, {"data_test.json", "test_data_path", "no such file"});
  EXPECT_FALSE(std::filesystem::exists(w.dir.file("bad")));  // refused before anything is written
  cfg = w.config(w.dir.file("bad"));
  cfg["eval_suite"] = w.dir.file("no-suite.json");
  EXPECT_EQ(imsm::missing_input(imsm::parse_train_config(cfg, "cfg.json")), "eval_suite: no file " + w.dir.file("no-suite.json"));
}
