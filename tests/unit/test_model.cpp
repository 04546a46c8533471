// The LibTorch Llama against the naive reference (fp32 model vs double loops,
// max |difference| within kWholeModel ulps of the largest |logit|, tolerance.h:
// fp32 rounding over two layers of width <= 32, relative to the logits' size;
// any real error moves logits by percents), plus cache, padding, save/load
// and sampling properties.
#include <gtest/gtest.h>

#include "model/device.h"
#include "tolerance.h"
#include "model/generate.h"
#include "model/layout.h"
#include "model/loader.h"
#include "model_fixtures.h"
#include "naive_llama.h"
#include "test_util.h"

using imsm::testing::random_model;
using imsm::testing::TempDir;
using imsm::testing::tiny_config;

namespace {

imsm::testing::NaiveWeights naive_weights(const imsm::LlamaModel& m) {
  imsm::testing::NaiveWeights out;
  for (const auto& [name, t] : m.named_weights()) {
    const torch::Tensor d = t.to(torch::kFloat64).contiguous();
    const double* p = d.data_ptr<double>();
    imsm::testing::Vec data(p, p + d.numel());
    if (d.dim() == 2) out.mats[name] = {d.size(0), d.size(1), std::move(data)};
    else out.vecs[name] = std::move(data);
  }
  return out;
}

torch::Tensor ids_tensor(const std::vector<int32_t>& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1});
}

double max_diff(const torch::Tensor& logits, const std::vector<imsm::testing::Vec>& ref) {
  double worst = 0;
  const torch::Tensor l = logits.to(torch::kFloat64).contiguous();  // [T, V]
  for (int64_t t = 0; t < l.size(0); ++t)
    for (int64_t v = 0; v < l.size(1); ++v) worst = std::max(worst, std::abs(l[t][v].item<double>() - ref[t][v]));
  return worst;
}

class ForwardVsNaive : public ::testing::TestWithParam<std::string> {};

// The engine (fp32, ATen's kernels) against the naive fp64 reference: the
// engine's rounding over a whole forward pass, relative to the logits' size.
TEST_P(ForwardVsNaive, LogitsMatchWithinWholeModelRounding) {
  const auto c = tiny_config(GetParam());
  const auto model = random_model(c, 7);
  const std::vector<int32_t> ids = {1, 5, 9, 2, 33, 17, 4, 4, 38, 0, 21, 12, 7, 30, 3, 19, 25, 11, 6, 2};  // 20 > 16: past llama3's original length
  torch::NoGradGuard g;
  imsm::ForwardInput in;
  in.input_ids = ids_tensor(ids);
  const torch::Tensor logits = model->forward(in)[0];  // [T, V]
  const auto ref = imsm::testing::naive_forward(c, naive_weights(*model), ids);
  double scale = 0;
  for (const auto& row : ref)
    for (double v : row) scale = std::max(scale, std::abs(v));
  EXPECT_GT(scale, 0.5) << "logits too small to be a meaningful comparison";
  EXPECT_LE(max_diff(logits, ref), imsm::testing::fp32_ulps(imsm::testing::kWholeModel, scale)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Configs, ForwardVsNaive, ::testing::Values("llama-gqa", "qwen2", "qwen3", "llama3", "mistral", "linear", "dynamic"));

TEST(Model, HiddenIsFinalNormOutputAndHeadIsSeparate) {
  const auto c = tiny_config("llama-gqa");
  const auto model = random_model(c, 3);
  torch::NoGradGuard g;
  imsm::ForwardInput in;
  in.input_ids = ids_tensor({3, 4, 5});
  const torch::Tensor hidden = model->forward_hidden(in);  // [1, 3, d]
  EXPECT_EQ(hidden.sizes(), (std::vector<int64_t>{1, 3, 32}));
  const torch::Tensor w = model->named_weights().back().second;  // lm_head.weight [V, d]
  EXPECT_TRUE(torch::allclose(model->lm_head(hidden), torch::matmul(hidden, w.t()), 1e-5, 1e-6));
}

TEST(Model, CachedDecodingEqualsFullRecomputation) {
  for (const std::string variant : {"llama-gqa", "qwen2", "qwen3", "llama3"}) {
    const auto c = tiny_config(variant);
    const auto model = random_model(c, 11);
    torch::NoGradGuard g;
    const std::vector<int32_t> ids = {2, 8, 16, 1, 39, 22, 5, 13, 27, 9, 31, 6, 18, 24, 3, 35, 10, 20};
    imsm::ForwardInput full;
    full.input_ids = ids_tensor(ids);
    const torch::Tensor want = model->forward(full)[0];  // [T, V]
    imsm::KVCache cache = model->make_cache();
    std::vector<torch::Tensor> got;
    imsm::ForwardInput prefill;
    prefill.input_ids = ids_tensor({ids.begin(), ids.begin() + 5});
    prefill.cache = &cache;
    got.push_back(model->forward(prefill)[0]);  // [5, V]
    for (size_t t = 5; t < ids.size(); ++t) {
      imsm::ForwardInput step;
      step.input_ids = ids_tensor({ids[t]});
      step.cache = &cache;
      got.push_back(model->forward(step)[0]);  // [1, V]
    }
    EXPECT_EQ(cache.length(), static_cast<int64_t>(ids.size()));
    // Attention over the cache sums in other shapes than over the whole sequence.
    const double bound = imsm::testing::fp32_ulps(imsm::testing::kWholeModel, want.abs().max().item<double>());
    EXPECT_LE((torch::cat(got, 0) - want).abs().max().item<double>(), bound) << variant;
  }
}

TEST(Model, PaddedBatchEqualsRowsAlone) {
  const auto c = tiny_config("qwen2");
  const auto model = random_model(c, 5);
  const std::vector<std::vector<int32_t>> prompts = {{4, 9, 2, 7, 7, 30}, {11, 3}, {5, 6, 8, 1}};
  torch::NoGradGuard g;
  const imsm::PaddedBatch batch = imsm::left_pad(prompts);
  imsm::ForwardInput in;
  in.input_ids = batch.ids;
  in.positions = batch.positions;
  in.attention_mask = batch.mask;
  const torch::Tensor logits = model->forward(in);  // [3, L, V]
  for (size_t b = 0; b < prompts.size(); ++b) {
    imsm::ForwardInput alone;
    alone.input_ids = ids_tensor(prompts[b]);
    const torch::Tensor want = model->forward(alone)[0];  // [T_b, V]
    const int64_t T = want.size(0), L = logits.size(1);
    // Padded rows are other matmul shapes (other kernels' summation order).
    const double bound = imsm::testing::fp32_ulps(imsm::testing::kWholeModel, want.abs().max().item<double>());
    EXPECT_LE((logits[b].narrow(0, L - T, T) - want).abs().max().item<double>(), bound) << "row " << b;
  }
  // Generation too: each row of the batch generates what it generates alone.
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 8;
  const auto together = imsm::generate(*model, prompts, opt);
  for (size_t b = 0; b < prompts.size(); ++b)
    EXPECT_EQ(together.tokens[b], imsm::generate(*model, {prompts[b]}, opt).tokens[0]) << "row " << b;
}

// Prompts that start with the same tokens (an evaluation set's instruction):
// generate() prefills the prefix once and shares its cache; each row still
// generates what it generates alone, with the rest of the prompts of unequal
// lengths (padding between the prefix and the rest) and of equal lengths (no mask).
TEST(Model, SharedPrefixGeneratesWhatEachRowGeneratesAlone) {
  const std::vector<int32_t> instruction = {4, 9, 2, 7, 7, 30, 11, 3, 5, 6};
  auto with = [&](std::vector<int32_t> rest) {
    std::vector<int32_t> p = instruction;
    p.insert(p.end(), rest.begin(), rest.end());
    return p;
  };
  const std::vector<std::vector<int32_t>> unequal = {with({7, 7, 30}), with({3}), with({5, 6, 8, 1}), instruction};
  const std::vector<std::vector<int32_t>> equal = {with({1, 2}), with({2, 1}), with({8, 8})};
  EXPECT_EQ(imsm::shared_prefix_length(unequal), 9);  // the whole instruction but the shortest prompt's last token
  EXPECT_EQ(imsm::shared_prefix_length(equal), 10);
  EXPECT_EQ(imsm::shared_prefix_length({{1, 2, 3}, {2, 2, 3}}), 0);
  EXPECT_EQ(imsm::shared_prefix_length({{5}}), 0);
  const auto model = random_model(tiny_config("llama"), 11);
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 8;
  for (const auto* prompts : {&unequal, &equal}) {
    const auto together = imsm::generate(*model, *prompts, opt);
    for (size_t b = 0; b < prompts->size(); ++b)
      EXPECT_EQ(together.tokens[b], imsm::generate(*model, {(*prompts)[b]}, opt).tokens[0]) << "row " << b << " of " << prompts->size();
  }
  // What the model was fed: the prefix as one row, then the rests, then one token a row.
  struct Recorder : imsm::ModelStep {
    using ModelStep::ModelStep;
    std::vector<std::vector<int64_t>> shapes;
    torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override {
      shapes.push_back(ids.sizes().vec());
      return ModelStep::next_logits(ids, positions, mask);
    }
  } recorder(*model, true);
  opt.max_new_tokens = 2;
  imsm::generate(recorder, unequal, opt);
  const std::vector<std::vector<int64_t>> fed = {{1, 9}, {4, 5}, {4, 1}};  // the rests: 4, 2, 5 and 1 tokens
  EXPECT_EQ(recorder.shapes, fed);
}

// Rows that end early leave the batch (keep_rows) once a quarter of it is
// done; the others go on from their own cache rows and say what they say alone.
TEST(Model, FinishedRowsLeaveTheBatchAndNoAnswerChanges) {
  const auto model = random_model(tiny_config("llama-gqa"), 11);
  const std::vector<std::vector<int32_t>> prompts = {{4, 9, 2}, {7, 7, 30, 11}, {3}, {5, 6, 8, 1, 2}, {12, 13}, {20, 2, 9}};
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 8;
  // The end token: the one row 2 says first, alone (it stops at once; others stop where they say it).
  opt.eos_ids = {imsm::generate(*model, {prompts[2]}, opt).tokens[0][0]};
  imsm::testing::RowRecorder<imsm::ModelStep> recorder(*model, true);
  const auto together = imsm::generate(recorder, prompts, opt);
  size_t finished_early = 0;
  for (size_t b = 0; b < prompts.size(); ++b) {
    EXPECT_EQ(together.tokens[b], imsm::generate(*model, {prompts[b]}, opt).tokens[0]) << "row " << b;
    finished_early += together.tokens[b].size() < 8 ? 1 : 0;
  }
  ASSERT_GE(finished_early, 2u) << "the test needs rows that end early";
  EXPECT_LT(recorder.rows.back(), 6) << "finished rows stayed in the batch";
  EXPECT_TRUE(std::is_sorted(recorder.rows.rbegin(), recorder.rows.rend()));
}

TEST(Model, GreedyWithCacheEqualsGreedyWithoutAndArgmaxOfNaive) {
  const auto c = tiny_config("llama-gqa");
  const auto model = random_model(c, 21);
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 10;
  const std::vector<int32_t> prompt = {1, 2, 3};
  const auto cached = imsm::generate(*model, {prompt}, opt).tokens[0];
  opt.use_cache = false;
  EXPECT_EQ(imsm::generate(*model, {prompt}, opt).tokens[0], cached);
  // Replay with the naive reference: each token is the argmax of its logits.
  std::vector<int32_t> seq = prompt;
  const auto w = naive_weights(*model);
  for (const int32_t tok : cached) {
    const auto logits = imsm::testing::naive_forward(c, w, seq).back();
    EXPECT_EQ(tok, std::max_element(logits.begin(), logits.end()) - logits.begin());
    seq.push_back(tok);
  }
}

TEST(Model, StopsAtAnyEosAndRejectsBadPrompts) {
  const auto c = tiny_config("llama-gqa");
  const auto model = random_model(c, 21);
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 10;
  const auto free_run = imsm::generate(*model, {{1, 2, 3}}, opt).tokens[0];
  ASSERT_GE(free_run.size(), 4u);
  opt.eos_ids = {999, free_run[3]};
  const auto stopped = imsm::generate(*model, {{1, 2, 3}}, opt).tokens[0];
  const auto first = std::find(free_run.begin(), free_run.end(), free_run[3]) - free_run.begin();
  EXPECT_EQ(stopped, std::vector<int32_t>(free_run.begin(), free_run.begin() + first + 1));
  imsm::testing::expect_bad_input([&] { imsm::generate(*model, {{}}, opt); }, {"empty prompt"});
  imsm::testing::expect_bad_input([&] { imsm::generate(*model, {{1, 40}}, opt); }, {"40", "outside the vocabulary"});
}

TEST(Model, SaveThenLoadGivesIdenticalLogits) {
  const auto c = tiny_config("qwen2");
  const auto model = random_model(c, 9);
  TempDir dir;
  imsm::save_llama(*model, dir.path().string());
  const auto loaded = imsm::load_llama(dir.path().string());
  torch::NoGradGuard g;
  imsm::ForwardInput in;
  in.input_ids = ids_tensor({5, 1, 30, 2});
  EXPECT_TRUE(torch::equal(model->forward(in), loaded->forward(in)));
}

TEST(Model, HalfPrecisionsStayCloseToF32) {
  const auto c = tiny_config("llama-gqa");
  const auto model = random_model(c, 9);
  TempDir dir;
  imsm::save_llama(*model, dir.path().string());
  torch::NoGradGuard g;
  imsm::ForwardInput in;
  in.input_ids = ids_tensor({5, 1, 30, 2, 17, 8});
  const torch::Tensor want = model->forward(in);
  for (const auto dtype : {torch::kBFloat16, torch::kFloat16}) {
    imsm::LoadOptions opt;
    opt.dtype = dtype;
    if (!imsm::dtype_supported(torch::kCPU, dtype)) {
      imsm::testing::expect_bad_input([&] { imsm::load_llama(dir.path().string(), opt); }, {"f16 on CPU", "bf16"});
      continue;
    }
    const auto half = imsm::load_llama(dir.path().string(), opt);
    EXPECT_EQ(half->dtype(), dtype);
    const torch::Tensor got = half->forward(in).to(torch::kFloat32);
    // bf16 keeps 8 bits of mantissa: errors of a few percent of the logit scale are expected.
    const double scale = want.abs().max().item<double>();
    EXPECT_LE((got - want).abs().max().item<double>(), 0.05 * scale) << c10::toString(dtype);
  }
}

TEST(Sampler, SeededAndConsistentWithGreedy) {
  const std::vector<float> logits = {0.1f, 2.0f, 1.9f, -1.0f, 0.5f};
  imsm::Sampler greedy({0.0, 0, 1.0, 0});
  EXPECT_EQ(greedy.next(logits.data(), 5), 1);
  imsm::Sampler top1({1.0, 1, 1.0, 42});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.next(logits.data(), 5), 1);
  imsm::Sampler nucleus({1.0, 0, 0.01, 42});  // p small: only the most likely token survives
  for (int i = 0; i < 20; ++i) EXPECT_EQ(nucleus.next(logits.data(), 5), 1);
  imsm::Sampler a({1.0, 0, 1.0, 123}), b({1.0, 0, 1.0, 123});
  std::vector<int32_t> sa, sb;
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 2000; ++i) {
    sa.push_back(a.next(logits.data(), 5));
    sb.push_back(b.next(logits.data(), 5));
    ++counts[sa.back()];
  }
  EXPECT_EQ(sa, sb);
  // Frequencies follow softmax(logits): p(1) = 0.430, p(3) = 0.021 (hand-computed).
  EXPECT_NEAR(counts[1] / 2000.0, 0.430, 0.04);
  EXPECT_NEAR(counts[3] / 2000.0, 0.021, 0.015);
  imsm::Sampler topk2({1.0, 2, 1.0, 7});
  for (int i = 0; i < 50; ++i) {
    const int32_t t = topk2.next(logits.data(), 5);
    EXPECT_TRUE(t == 1 || t == 2);
  }
}

}  // namespace

#include "train/perplexity.h"
#include "util/half.h"

// Answer perplexity against the naive double-precision forward: padded
// batches of different lengths, NLL summed over answer tokens only.
// Tolerance: the fp32 forward's logits agree with the reference within
// kWholeModel ulps of their size (ForwardVsNaive); an NLL is a difference of
// such logits (log-sum-exp minus one logit), so it may differ by twice that
// at the logits' scale.
TEST(Perplexity, EqualsTheNaiveNllOfTheAnswerTokens) {
  const auto c = tiny_config("llama-gqa");
  const auto model = random_model(c, 11, torch::kFloat32);
  const std::vector<imsm::EncodedExample> data = {
      {{1, 5, 9, 3, 7, 2}, {-100, -100, -100, 3, 7, 2}, 3},
      {{1, 4, 2}, {-100, -100, 2}, 2},
      {{1, 8, 8, 6, 5, 12, 2}, {-100, -100, -100, -100, 5, 12, 2}, 4}};
  const auto weights = naive_weights(*model);
  double nll = 0;
  int64_t count = 0;
  for (const auto& e : data) {
    const auto logits = imsm::testing::naive_forward(model->config(), weights, e.ids);  // [T][V]
    for (size_t t = 1; t < e.ids.size(); ++t) {
      if (e.labels[t] < 0) continue;
      const auto& l = logits[t - 1];
      double mx = -INFINITY, sum = 0;
      for (double v : l) mx = std::max(mx, v);
      for (double v : l) sum += std::exp(v - mx);
      nll += mx + std::log(sum) - l[static_cast<size_t>(e.labels[t])];
      ++count;
    }
  }
  double scale = 0;
  for (const auto& e : data)
    for (const auto& row : imsm::testing::naive_forward(model->config(), weights, e.ids))
      for (double v : row) scale = std::max(scale, std::abs(v));
  const double nll_bound = 2 * imsm::testing::fp32_ulps(imsm::testing::kWholeModel, scale);
  for (int64_t batch : {1, 2, 3}) {
    const auto r = imsm::answer_perplexity(*model, nullptr, data, batch);
    EXPECT_EQ(r.tokens, count);
    EXPECT_NEAR(r.mean_nll, nll / static_cast<double>(count), nll_bound) << "batch " << batch;
    // exp(x + e) = exp(x)(1 + e): the perplexity's relative error is the NLL's absolute one.
    EXPECT_NEAR(r.perplexity, std::exp(nll / static_cast<double>(count)), nll_bound * r.perplexity) << "batch " << batch;
  }
}

// The workspace's float16 conversion (torch-free) against LibTorch's .half(),
// bit for bit, over normal, subnormal, overflowing and tie values.
TEST(Half, MatchesLibTorchBitForBit) {
  torch::manual_seed(3);
  torch::Tensor x = torch::cat({torch::randn({20000}) * 10, torch::randn({20000}) * 1e-5, torch::randn({2000}) * 1e5,
                                torch::rand({20000}), torch::tensor({65504.f, 65519.f, 65520.f, -65520.f, 0.f, -0.f, 5.96e-8f, 2.98e-8f})});
  const torch::Tensor h = x.to(torch::kHalf).view(torch::kInt16).to(torch::kInt32).bitwise_and(0xffff);
  const float* xp = x.data_ptr<float>();
  const int32_t* hp = h.contiguous().data_ptr<int32_t>();
  int64_t mismatches = 0;
  for (int64_t i = 0; i < x.numel(); ++i) mismatches += imsm::float_to_half(xp[i]) != static_cast<uint16_t>(hp[i]);
  EXPECT_EQ(mismatches, 0);
}
