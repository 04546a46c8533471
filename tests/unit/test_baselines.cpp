// The forgetting baselines — KL to the original model, EWC, replay and the
// fixed mix (WiSE-FT) — each against a computation by hand or a model
// computed independently, and the training recipe's refusals of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "tensor_tolerance.h"
#include "imsm/imsm_generate.h"
#include "imsm/mix_sweep.h"
#include "imsm/siamese.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "recipes/eval_record.h"
#include "recipes/train.h"
#include "recipes/train_record.h"
#include "siamese_fixture.h"
#include "train/ewc.h"
#include "train/kl_penalty.h"
#include "train/replay.h"
#include "train/trainer.h"

namespace {

using imsm::testing::expect_bad_input;
using imsm::testing::SiameseFixture;
using imsm::testing::write_file;

// The mean over scored positions (labels[b][t + 1] != -100) of KL(softmax(p) ‖ softmax(q)), by loops in double.
double kl_by_hand(const torch::Tensor& logits_p, const torch::Tensor& logits_q, const torch::Tensor& labels) {
  const auto p = logits_p.to(torch::kFloat64).contiguous(), q = logits_q.to(torch::kFloat64).contiguous();  // [B, T, V]
  const auto P = p.accessor<double, 3>(), Q = q.accessor<double, 3>();
  const auto L = labels.accessor<int64_t, 2>();
  double sum = 0;
  int n = 0;
  for (int64_t b = 0; b < p.size(0); ++b)
    for (int64_t t = 0; t + 1 < p.size(1); ++t) {
      if (L[b][t + 1] == -100) continue;
      double mp = -1e300, mq = -1e300, zp = 0, zq = 0;
      for (int64_t v = 0; v < p.size(2); ++v) mp = std::max(mp, P[b][t][v]), mq = std::max(mq, Q[b][t][v]);
      for (int64_t v = 0; v < p.size(2); ++v) zp += std::exp(P[b][t][v] - mp), zq += std::exp(Q[b][t][v] - mq);
      for (int64_t v = 0; v < p.size(2); ++v) {
        const double lp = P[b][t][v] - mp - std::log(zp), lq = Q[b][t][v] - mq - std::log(zq);
        sum += std::exp(lp) * (lp - lq);
      }
      ++n;
    }
  return sum / n;
}

imsm::ForwardInput input_of(const imsm::TrainBatch& b) {
  imsm::ForwardInput in;
  in.input_ids = b.ids;       // [B, T]
  in.attention_mask = b.mask;  // [B, T]
  return in;
}

TEST(Baselines, KlPenaltyIsTheKlFromTheBaseModelOnAnswerTokens) {
  SiameseFixture f;
  const auto base = imsm::load_llama(f.w.model, {});  // the original model, loaded on its own: no adapters
  torch::NoGradGuard no_grad;
  const torch::Tensor base_logits = base->forward(input_of(f.batch));  // [B, T, V]
  for (imsm::ImsmGate* gate : {f.gate.get(), static_cast<imsm::ImsmGate*>(nullptr)}) {  // IMSM, then the PEFT method alone
    imsm::SiameseTarget target(*f.model, *f.adapters, gate);
    target.set_training(false);
    const double plain = target.loss(f.batch).item<double>();
    target.set_penalties({0.7, 0, nullptr});
    const double with_kl = target.loss(f.batch).item<double>();
    const torch::Tensor tuned = imsm::siamese_forward(*f.model, gate, {f.batch.ids, f.batch.mask, f.batch.query_len}).logits;  // [B, T, V]
    const double kl = kl_by_hand(base_logits, tuned, f.batch.labels);
    EXPECT_GT(kl, 1e-3) << "the drawn adapter moves the model";
    // fp32 losses of ~3 differ by the penalty: a few ulps of each plus the KL's fp32 sums, where the
    // KL by hand recomputes the tuned stream (the model's rounding, at the size of the losses).
    EXPECT_NEAR(with_kl - plain, 0.7 * kl, imsm::testing::fp32_ulps(imsm::testing::kWholeModel, std::abs(plain)))
        << (gate ? "IMSM" : "LoRA alone");
  }
  // Equal distributions: no penalty.
  const torch::Tensor h = torch::randn({2, 5, 32});
  torch::Tensor labels = torch::full({2, 5}, 3, torch::kInt64);
  labels.index_put_({0, 1}, -100);
  EXPECT_NEAR(imsm::kl_to_original(h, h, base->lm_head_weight(), labels).item<double>(), 0.0, 1e-6);
}

TEST(Baselines, EwcPenaltyIsTheFisherWeightedSquaredDistanceFromTheStart) {
  SiameseFixture f;
  imsm::SiameseTarget target(*f.model, *f.adapters, f.gate.get());
  target.set_training(false);
  const auto params = target.parameters();
  imsm::EwcAnchor anchor;
  double by_hand = 0;
  torch::manual_seed(9);
  for (const auto& p : params) {
    const torch::Tensor F = torch::rand_like(p.tensor).detach();                        // [shape]
    const torch::Tensor start = (p.tensor + 0.1 * torch::randn_like(p.tensor)).detach();  // [shape]
    anchor.fisher.emplace_back(p.name, F);
    anchor.start.emplace_back(p.name, start);
    const auto f64 = [](const torch::Tensor& t) { return t.to(torch::kFloat64).contiguous().view({-1}); };
    const auto Fv = f64(F), Tv = f64(p.tensor.detach()), Sv = f64(start);
    for (int64_t i = 0; i < Fv.numel(); ++i) {
      const double d = Tv[i].item<double>() - Sv[i].item<double>();
      by_hand += Fv[i].item<double>() * d * d;
    }
  }
  const double penalty = imsm::ewc_penalty(anchor, params).item<double>();
  EXPECT_NEAR(penalty, by_hand, 1e-5 * by_hand);  // fp32 sums of a few thousand terms
  const double plain = target.loss(f.batch).item<double>();
  target.set_penalties({0, 0.3, &anchor});
  EXPECT_NEAR(target.loss(f.batch).item<double>() - plain, 0.3 * by_hand, 1e-5 * by_hand + 1e-5);
}

TEST(Baselines, EwcFisherIsTheMeanSquaredGradientOfEachExampleAtTheStart) {
  imsm::testing::TrainWorkspace w;
  const auto model = imsm::load_llama(w.model, {torch::kCPU, torch::kFloat64});  // fp64: finite differences to 1e-9
  imsm::PeftConfig pc;
  pc.dropout = 0.0;
  const auto adapters = imsm::PeftAdapters::attach(*model, pc, 3);  // the start: LoRA's B = 0
  imsm::GateConfig gc;
  gc.hidden_size = model->config().hidden_size;
  gc.rank = 4;
  imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat64, 5);
  imsm::SiameseTarget target(*model, *adapters, &gate);
  target.set_training(false);
  const auto tokenizer = imsm::load_tokenizer(w.model);
  std::vector<imsm::EncodedExample> sample;
  for (const auto& e : imsm::read_examples(w.data)) {
    if (sample.size() == 5) break;
    sample.push_back(imsm::encode_example(*tokenizer, e, 64, 16, 1));
  }
  const auto params = target.parameters();
  const imsm::EwcAnchor anchor = imsm::estimate_fisher(params, [&](const imsm::TrainBatch& b) { return target.answer_nll(b); }, sample, torch::kCPU);
  ASSERT_EQ(anchor.examples, 5);
  int checked = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    const std::string& name = params[k].name;
    const torch::Tensor F = anchor.fisher[k].second.view({-1});
    // With B = 0 the output does not depend on A, nor on the gate (its two streams are equal): their Fisher is 0.
    if (name.find("lora_A") != std::string::npos || name.find("imsm.") != std::string::npos) {
      EXPECT_EQ(F.abs().max().item<double>(), 0.0) << name;
      continue;
    }
    ASSERT_NE(name.find("lora_B"), std::string::npos) << name;
    EXPECT_GT(F.max().item<double>(), 0.0) << name;
    for (const int64_t i : {int64_t{0}, F.numel() / 2, F.numel() - 1}) {  // central differences of each example's NLL
      double mean_sq = 0;
      for (const auto& e : sample) {
        const imsm::TrainBatch one = imsm::collate({&e}, torch::kCPU);
        torch::NoGradGuard no_grad;
        auto flat = params[k].tensor.view({-1});
        const double eps = 1e-5, was = flat[i].item<double>();
        flat[i] = was + eps;
        const double up = target.answer_nll(one).item<double>();
        flat[i] = was - eps;
        const double down = target.answer_nll(one).item<double>();
        flat[i] = was;
        const double g = (up - down) / (2 * eps);
        mean_sq += g * g / static_cast<double>(sample.size());
      }
      EXPECT_NEAR(F[i].item<double>(), mean_sq, 1e-6 * std::max(1.0, mean_sq)) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 6);  // two LoRA B's per layer of q_proj and v_proj
  // Cached and read back only with the same key and parameters.
  imsm::testing::TempDir dir;
  const std::string path = dir.file("ewc.safetensors");
  imsm::save_anchor(anchor, path, "key-1");
  imsm::EwcAnchor back;
  EXPECT_FALSE(imsm::load_anchor(path, "key-2", params, back));
  ASSERT_TRUE(imsm::load_anchor(path, "key-1", params, back));
  EXPECT_EQ(back.examples, 5);
  for (size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(back.fisher[k].second.equal(anchor.fisher[k].second.to(torch::kFloat32))) << params[k].name;
}

TEST(Baselines, ReplayBatchesCarryKGeneralRowsAndEveryTaskExampleOnceAnEpoch) {
  EXPECT_EQ(imsm::replay_rows(0.5, 4), 2);
  EXPECT_EQ(imsm::replay_rows(0.25, 8), 2);
  expect_bad_input([] { imsm::replay_rows(0.1, 4); }, {"replay_ratio", "0.1", "replays no row", "0.125"});
  expect_bad_input([] { imsm::replay_rows(0.9, 4); }, {"replay_ratio", "0.9", "no row for the task"});
  const imsm::ReplayPlan plan{10, 2};  // data 0..9 the task, 10..12 general
  EXPECT_EQ(imsm::replay_batches_per_epoch(plan, 4), 5);
  std::vector<size_t> drawn;  // the general rows in the order batches took them, two epochs
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    const auto batches = imsm::replay_batches(plan, 3, 4, 7, epoch);
    ASSERT_EQ(batches.size(), 5u);
    std::multiset<size_t> task;
    for (const auto& b : batches) {
      ASSERT_EQ(b.size(), 4u);
      for (size_t r = 0; r < 2; ++r) task.insert(b[r]);
      for (size_t r = 2; r < 4; ++r) {
        EXPECT_GE(b[r], 10u);
        EXPECT_LE(b[r], 12u);
        drawn.push_back(b[r]);
      }
    }
    EXPECT_EQ(task, (std::multiset<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "epoch " << epoch;
  }
  // Each pass over the general data takes every example once before any again, across the epochs' boundary too.
  for (size_t s = 0; s + 3 <= drawn.size(); s += 3)
    EXPECT_EQ(std::set<size_t>(drawn.begin() + static_cast<std::ptrdiff_t>(s), drawn.begin() + static_cast<std::ptrdiff_t>(s + 3)),
              (std::set<size_t>{10, 11, 12}))
        << "pass from draw " << s;
  EXPECT_NE(imsm::replay_batches(plan, 3, 4, 7, 0), imsm::replay_batches(plan, 3, 4, 7, 1)) << "each epoch its own shuffle";
}

TEST(Baselines, FixedMixIsTheLineBetweenTheOriginalAndTheTunedModel) {
  SiameseFixture f;
  torch::NoGradGuard no_grad;
  const auto base = imsm::load_llama(f.w.model, {});
  const torch::Tensor h_base = base->forward_hidden(input_of(f.batch));                                            // [B, T, d]
  const imsm::SiameseBatch b{f.batch.ids, f.batch.mask, f.batch.query_len};
  const torch::Tensor h_tuned = imsm::siamese_forward(*f.model, nullptr, b).h_N;                                    // [B, T, d]
  for (const double alpha : {0.0, 0.25, 1.0}) {
    const auto gate = imsm::ImsmGate::fixed(alpha, f.model->config().hidden_size, torch::kCPU, torch::kFloat32);
    const torch::Tensor mixed = imsm::siamese_forward(*f.model, gate.get(), b).logits;                              // [B, T, V]
    const torch::Tensor expected = base->lm_head(alpha * h_base + (1 - alpha) * h_tuned);                           // [B, T, V]
    // The streams are recomputed (base alone, the tuned stream without a gate): the model's fp32 rounding.
    EXPECT_TRUE(imsm::testing::close_at_scale(mixed, expected, imsm::testing::kWholeModel)) << "alpha " << alpha;
  }
  expect_bad_input([&] { imsm::ImsmGate::fixed(1.5, 32, torch::kCPU, torch::kFloat32); }, {"mix_alpha", "[0, 1]"});
}

TEST(Baselines, MixSweepDecodesEveryAlphaInOnePassAsEachAlone) {
  SiameseFixture f;
  const std::vector<std::vector<int32_t>> prompts = {{0, 5, 6, 7, 2, 9}, {0, 9}, {0, 3, 4, 12}};
  const std::vector<double> alphas = {0.0, 0.5, 1.0};
  imsm::GenerateOptions options;
  options.max_new_tokens = 6;
  std::vector<std::vector<int32_t>> rows;
  for (size_t a = 0; a < alphas.size(); ++a) rows.insert(rows.end(), prompts.begin(), prompts.end());
  imsm::MixSweepStep sweep(*f.model, alphas, 3);
  const auto together = imsm::generate(sweep, rows, options);
  for (size_t a = 0; a < alphas.size(); ++a) {
    const auto gate = imsm::ImsmGate::fixed(alphas[a], f.model->config().hidden_size, torch::kCPU, torch::kFloat32);
    const auto alone = imsm::generate(*imsm::make_decode_step(*f.model, gate.get(), true), prompts, options);
    for (size_t p = 0; p < prompts.size(); ++p) EXPECT_EQ(together.tokens[a * 3 + p], alone.tokens[p]) << "alpha " << alphas[a] << " prompt " << p;
  }
  // The ends of the line are the two models, each decoded on its own.
  const auto tuned = imsm::generate(*f.model, prompts, options);  // the model with its LoRA
  const auto base = imsm::load_llama(f.w.model, {});
  const auto original = imsm::generate(*base, prompts, options);
  bool differ = false;
  for (size_t p = 0; p < prompts.size(); ++p) {
    EXPECT_EQ(together.tokens[p], tuned.tokens[p]) << "alpha 0, prompt " << p;
    EXPECT_EQ(together.tokens[6 + p], original.tokens[p]) << "alpha 1, prompt " << p;
    differ = differ || tuned.tokens[p] != original.tokens[p];
  }
  EXPECT_TRUE(differ) << "the drawn adapter should change some answer, or the test shows nothing";
}

// General data for replay and EWC: `n` lines of another task (reversal).
std::string general_data(const imsm::testing::TrainWorkspace& w, const std::string& name, int n) {
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const std::string word = {static_cast<char>('a' + i % 26), static_cast<char>('a' + (i * 7) % 26), static_cast<char>('a' + (i * 3) % 26)};
    lines += "{\"input\": \"reverse " + word + "\", \"output\": \"" + std::string(word.rbegin(), word.rend()) + "\"}\n";
  }
  const std::string path = w.dir.file(name);
  write_file(path, lines);
  return path;
}

TEST(BaselineRecipe, EachBaselineTrainsAndBadValuesAreRefusedBeforeAnyWork) {
  imsm::testing::TrainWorkspace w;
  const std::string general = general_data(w, "general.jsonl", 20);
  auto config = [&](const std::string& out) {
    auto c = w.config(w.dir.file(out));
    c["num_epochs"] = 1;
    c["save_steps"] = 0;
    return c;
  };
  // Replay: 2 of each 8 rows general, 6 task rows a batch: 40 task examples in ceil(40 / 6) = 7 steps.
  auto c = config("replay");
  c["replay_data"] = general;
  c["replay_ratio"] = 0.25;
  auto summary = imsm::run_train(imsm::parse_train_config(c, "replay"));
  EXPECT_EQ(summary.status, imsm::RunStatus::Finished);
  EXPECT_EQ(summary.total_steps, 7);
  EXPECT_EQ(summary.examples, 40);
  // EWC: the anchor is written beside the run and read back, unchanged, by a run with the same inputs.
  c = config("ewc");
  c["ewc_lambda"] = 1.0;
  c["ewc_data"] = general;
  c["ewc_examples"] = 16;
  EXPECT_EQ(imsm::run_train(imsm::parse_train_config(c, "ewc")).status, imsm::RunStatus::Finished);
  const std::string anchor = w.dir.file("ewc") + "/ewc_fisher.safetensors";
  ASSERT_TRUE(std::filesystem::exists(anchor));
  EXPECT_EQ(imsm::SafetensorsFile::open(anchor).metadata().at("examples"), "16");
  const auto written = std::filesystem::last_write_time(anchor);
  imsm::run_train(imsm::parse_train_config(c, "ewc"));
  EXPECT_EQ(std::filesystem::last_write_time(anchor), written) << "the same inputs: the cached Fisher is read, not computed again";
  // KL with the PEFT method alone, and a fixed mix trained at α = 0.25 whose adapter keeps its α.
  c = config("kl");
  c.erase("mode");
  c["variant"] = "none";
  c["kl_lambda"] = 0.5;
  EXPECT_EQ(imsm::run_train(imsm::parse_train_config(c, "kl")).status, imsm::RunStatus::Finished);
  c = config("fixed");
  c["mode"] = 0;
  c["mix_alpha"] = 0.25;
  const auto fixed = imsm::run_train(imsm::parse_train_config(c, "fixed"));
  const auto gate = imsm::ImsmGate::load(fixed.adapter_dir, torch::kCPU, torch::kFloat32);
  ASSERT_TRUE(gate);
  EXPECT_EQ(gate->config().alpha, 0.25);

  // Bad values: one line naming the key and the value, from the configuration alone.
  auto refused = [&](const std::string& key, const nlohmann::json& value, const std::vector<std::string>& needles) {
    auto bad = config("bad");
    bad[key] = value;
    if (key.rfind("replay", 0) == 0 && key != "replay_data") bad["replay_data"] = general;
    if (key.rfind("ewc", 0) == 0 && key != "ewc_lambda") bad["ewc_lambda"] = 1.0, bad["ewc_data"] = general;
    expect_bad_input([&] { imsm::parse_train_config(bad, "cfg.json"); }, needles);
  };
  refused("replay_ratio", 1.5, {"cfg.json", "\"replay_ratio\" is 1.5", "[0, 1)"});
  refused("replay_ratio", 0.05, {"replay_ratio", "replays no row", "0.0625"});
  refused("replay_data", general, {"\"replay_data\" needs \"replay_ratio\""});
  refused("kl_lambda", -1, {"\"kl_lambda\" is -1", "0 or positive"});
  refused("ewc_lambda", 2.0, {"\"ewc_lambda\" needs \"ewc_data\""});
  refused("ewc_examples", 8, {"\"ewc_examples\" is 8", "at least 16"});
  refused("mix_alpha", 1.2, {"\"mix_alpha\" is 1.2", "[0, 1]"});
  refused("mix_alpha", 0.3, {"\"mix_alpha\"", "no-gate", "--mix-alpha"});
  // Bad files: named before the model trains.
  c = config("bad");
  c["replay_data"] = w.dir.file("nowhere.jsonl");
  c["replay_ratio"] = 0.25;
  EXPECT_EQ(imsm::missing_input(imsm::parse_train_config(c, "cfg.json")), "replay_data: no file " + w.dir.file("nowhere.jsonl"));
  write_file(w.dir.file("general.csv"), "input,output\nreverse abc,cba\n");
  c["replay_data"] = w.dir.file("general.csv");
  expect_bad_input([&] { imsm::run_train(imsm::parse_train_config(c, "cfg.json")); }, {"general.csv:1", "JSON"});
  c = config("bad");
  c["ewc_lambda"] = 1.0;
  c["ewc_data"] = general_data(w, "small.jsonl", 5);
  c["ewc_examples"] = 16;
  expect_bad_input([&] { imsm::run_train(imsm::parse_train_config(c, "cfg.json")); }, {"small.jsonl", "holds 5 examples", "ewc_examples = 16"});
  EXPECT_FALSE(std::filesystem::exists(w.dir.file("bad") + "/adapter")) << "nothing trained";
}

// A suite along α: each α a subject after the adapter's own, one pass per benchmark, recorded per α and read back
// when asked again; α = 1 is the base model and α = 0 the adapter itself, each evaluated the ordinary way.
TEST(BaselineRecipe, SuiteAlongAlphaGivesASubjectPerMixAndReadsThemBack) {
  imsm::testing::TrainWorkspace w;
  auto c = w.config(w.dir.file("lora"));
  c.erase("mode");
  c["variant"] = "none";
  c["num_epochs"] = 2;
  c["learning_rate"] = 5e-2;
  const auto trained = imsm::run_train_recorded(w.dir.file("ws.imsm"), imsm::parse_train_config(c, "lora")).summary;  // run 1: the parent
  write_file(w.dir.file("suite.json"), nlohmann::json{{"name", "mini"}, {"batch_size", 8}, {"benchmarks", {
      {{"name", "copy"}, {"dataset", w.data}, {"task", "webq"}, {"metric", "Perplexity"}, {"max_new_tokens", 4}, {"limit", 12}},
      {{"name", "copy-em"}, {"dataset", w.data}, {"task", "webq"}, {"metric", "EM"}, {"max_new_tokens", 4}, {"limit", 12}}}}}.dump());
  imsm::SuiteRequest q;
  q.suite = w.dir.file("suite.json");
  q.model_dir = w.model;
  q.adapters = {trained.adapter_dir};
  q.workspace = w.dir.file("ws.imsm");
  q.mix_alphas = {0.0, 0.5, 1.0};
  const imsm::SuiteResult s = imsm::run_suite(q);
  ASSERT_EQ(s.subjects.size(), 4u);  // the adapter, then α = 0, 0.5, 1
  EXPECT_EQ(s.subjects[2].label.substr(s.subjects[2].label.size() - 6), "α=0.5");
  ASSERT_EQ(s.run_ids, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  for (size_t b = 0; b < 2; ++b) {
    // The same models in other batch layouts: fp32 sums in another order (1e-5 relative on a perplexity).
    EXPECT_NEAR(s.subjects[1].scores[b], s.subjects[0].scores[b], 1e-5 * std::max(1.0, s.subjects[0].scores[b])) << "α = 0 is the adapter";
    EXPECT_NEAR(s.subjects[3].scores[b], s.base.scores[b], 1e-5 * std::max(1.0, s.base.scores[b])) << "α = 1 is the base model";
  }
  EXPECT_NE(s.subjects[0].scores[0], s.base.scores[0]) << "training moved the model";
  // Asked again: every subject read back, no new run.
  q.reuse = imsm::finished_suite_runs(q);
  EXPECT_EQ(q.reuse, s.run_ids);
  const imsm::SuiteResult again = imsm::run_suite(q);
  EXPECT_EQ(again.run_ids, s.run_ids);
  for (size_t k = 0; k < 4; ++k) EXPECT_EQ(again.subjects[k].scores, s.subjects[k].scores);
}

}  // namespace
