// q8_0 decoding (model/q8_decoder.h) against the LibTorch model computing the
// same arithmetic in its own way: every linear layer's weight replaced by its
// q8_0 values (quantize_row_q8_0, whose bytes test_q8_0.cpp checks against
// ggml) and its input rounded to q8_0 by torch ops (ggml's x86 rule: 127 /
// max|x| per block of 32, ties to even), the LM head too. Prompt, then single
// tokens over the cache, for the model variants (GQA, biases, per-head norms,
// RoPE scalings, widths that are not whole blocks).
#include <gtest/gtest.h>

#include "model/generate.h"
#include "model/q8_decoder.h"
#include "model_fixtures.h"
#include "test_util.h"

using imsm::testing::random_model;
using imsm::testing::tiny_config;

namespace {

// x [..., n] -> its q8_0 values, as the decoder quantizes a layer's input.
torch::Tensor fake_quant_input(const torch::Tensor& x) {
  const int64_t n = x.size(-1), padded = (n + 31) / 32 * 32;
  torch::Tensor blocks = torch::constant_pad_nd(x, {0, padded - n}).view({-1, padded / 32, 32});  // [rows, nb, 32]
  const torch::Tensor amax = blocks.abs().amax(-1, true);                                         // [rows, nb, 1]
  const torch::Tensor d = (amax / 127).to(torch::kHalf).to(torch::kFloat32);                      // the stored fp16 step
  const torch::Tensor id = torch::where(amax > 0, 127 / amax, torch::zeros_like(amax));
  blocks = torch::round(blocks * id) * d;                                                         // round: ties to even
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = padded;
  return blocks.view(shape).narrow(-1, 0, n);  // [..., n]
}

// W [out, in] -> its q8_0 values.
torch::Tensor q8_values(const torch::Tensor& w) {
  const torch::Tensor c = w.to(torch::kFloat32).contiguous();
  const imsm::Q8Matrix m(c.data_ptr<float>(), c.size(0), c.size(1));
  torch::Tensor out = torch::empty_like(c);
  for (int64_t r = 0; r < m.rows(); ++r) m.dequantize_row(r, out[r].data_ptr<float>());
  return out;
}

class FakeQ8 : public imsm::LinearAdapter {
 public:
  explicit FakeQ8(const imsm::Linear& base) : w_(q8_values(base.weight)) {}
  torch::Tensor forward(const torch::Tensor& x, const imsm::Linear& base, const imsm::AdapterRows&) override {
    const torch::Tensor y = torch::matmul(fake_quant_input(x), w_.t());  // [B, T, out]
    return base.bias.defined() ? y + base.bias : y;
  }

 private:
  torch::Tensor w_;  // [out, in]
};

class Q8Decoding : public ::testing::TestWithParam<std::string> {};

TEST_P(Q8Decoding, LogitsEqualTheSameArithmeticInLibTorch) {
  const auto c = tiny_config(GetParam());
  const auto plain = random_model(c, 5);
  const auto reference = random_model(c, 5);  // the same weights, each linear layer through FakeQ8
  for (auto& [name, linear] : reference->linears()) linear->adapter = std::make_shared<FakeQ8>(*linear);
  const torch::Tensor head = q8_values(reference->lm_head_weight());  // [V, d]
  torch::NoGradGuard no_grad;

  imsm::Q8DecodeStep step(*plain);
  imsm::KVCache cache = reference->make_cache();
  const std::vector<int64_t> ids = {3, 17, 9, 30, 1, 22, 8, 8, 14, 27, 5, 11, 36, 2, 19, 24, 6, 33};  // past the dynamic scaling's 16
  double worst = 0, scale = 0, unquantized = 0;
  for (int64_t begin = 0, T = 6; begin < static_cast<int64_t>(ids.size()); begin += T, T = 1) {
    const torch::Tensor x = torch::tensor(std::vector<int64_t>(ids.begin() + begin, ids.begin() + begin + T)).view({1, T});
    const torch::Tensor pos = torch::arange(begin, begin + T, torch::kInt64).view({1, T});
    imsm::ForwardInput in;
    in.input_ids = x;
    in.positions = pos;
    in.cache = &cache;
    const torch::Tensor hidden = reference->forward_hidden(in).select(1, T - 1);  // [1, d]
    const torch::Tensor want = torch::matmul(fake_quant_input(hidden), head.t());  // [1, V]
    const torch::Tensor got = step.next_logits(x, pos, torch::Tensor());            // [1, V]
    worst = std::max(worst, (got - want).abs().max().item<double>());
    scale = std::max(scale, want.abs().max().item<double>());
    imsm::ForwardInput whole;
    whole.input_ids = torch::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + begin + T)).view({1, -1});
    unquantized = std::max(unquantized, (got - plain->forward(whole).select(1, begin + T - 1)).abs().max().item<double>());
  }
  // Both sides round the same values to the same int8 steps and sum in fp32
  // in other orders. Where two such sums put a layer input within rounding of
  // a .5 of its step, the two sides round it apart by one step (1/127 of its
  // block's largest value); a few such flips stay under 1% of the logits. A
  // wrong row, head, scale, bias or RoPE moves them by tens of percents, and
  // q8_0 itself (against the fp32 model) by several percents. Measured on
  // the Zen 5 with each kernel (VNNI, AVX2, portable): 4.8e-7 at logits ~5,
  // one ulp, no flip; q8_0 against fp32: 0.19-0.39.
  EXPECT_LE(worst, 0.01 * scale) << GetParam() << ": q8_0 against fp32 " << unquantized;
  EXPECT_GT(unquantized, 3 * worst) << GetParam() << ": the comparison tells q8_0 from fp32";
}

INSTANTIATE_TEST_SUITE_P(Configs, Q8Decoding, ::testing::Values("llama-gqa", "qwen2", "qwen3", "llama3", "mistral", "dynamic"));

TEST(Q8Decoding, GreedyGenerationRunsOnTheStepAndRefusesAdapters) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 9);
  torch::NoGradGuard no_grad;
  imsm::Q8DecodeStep step(*model);
  imsm::GenerateOptions options;
  options.max_new_tokens = 8;
  const imsm::GenerateOutput out = imsm::generate(step, {{4, 7, 1}}, options);
  ASSERT_EQ(out.tokens.size(), 1u);
  EXPECT_EQ(out.tokens[0].size(), 8u);
  imsm::testing::expect_bad_input(
      [&] { step.next_logits(torch::ones({2, 1}, torch::kInt64), torch::zeros({2, 1}, torch::kInt64), torch::Tensor()); },
      {"one sequence at a time, not 2"});
  model->linears().begin()->second->adapter = std::make_shared<FakeQ8>(*model->linears().begin()->second);
  imsm::testing::expect_bad_input([&] { imsm::Q8DecodeStep again(*model); }, {"adapters attached", "merge them"});
}

}  // namespace
