// Steering the inspector's generation: the gate clamped to a constant for
// chosen tokens, against the models decoded on their own, and the per-token
// statistics of the two memories (probabilities, entropies, KL) against
// sums by hand over distributions computed independently.
#include <gtest/gtest.h>

#include <cmath>

#include "imsm/imsm_generate.h"
#include "siamese_fixture.h"

namespace {

using imsm::testing::SiameseFixture;

const std::vector<std::vector<int32_t>> kPrompts = {{0, 5, 6, 7, 2, 9}, {0, 3, 4, 12}};

imsm::GenerateOptions greedy(int64_t tokens) {
  imsm::GenerateOptions o;
  o.max_new_tokens = tokens;
  return o;
}

TEST(Steering, ClampedGateDecodesAsTheModelItSelects) {
  SiameseFixture f;
  const auto base = imsm::load_llama(f.w.model, {});  // the original model on its own
  const auto original = imsm::generate(*base, kPrompts, greedy(6));
  const auto tuned = imsm::generate(*f.model, kPrompts, greedy(6));  // the model with its LoRA: the fine-tuned memory alone
  imsm::ImsmStep to_original(*f.model, *f.gate, true);
  to_original.set_clamp(1.0, {});
  EXPECT_EQ(imsm::generate(to_original, kPrompts, greedy(6)).tokens, original.tokens);
  imsm::ImsmStep to_tuned(*f.model, *f.gate, true);
  to_tuned.set_clamp(0.0, {});
  EXPECT_EQ(imsm::generate(to_tuned, kPrompts, greedy(6)).tokens, tuned.tokens);
  ASSERT_NE(original.tokens, tuned.tokens) << "the drawn adapter should change an answer, or the test shows nothing";
  // Only the first token clamped: it is the original model's; the gate of that step is 1 everywhere, later steps the gate's own.
  imsm::ImsmStep first(*f.model, *f.gate, true);
  first.set_clamp(1.0, {0});
  std::vector<float> gates;
  const auto steered = imsm::generate(first, kPrompts, greedy(3), {}, [&](int64_t row, int64_t slot, int32_t) {
    if (row == 0) gates.push_back(first.last_gate()[slot].min().item<float>());
  });
  for (size_t p = 0; p < kPrompts.size(); ++p) EXPECT_EQ(steered.tokens[p].front(), original.tokens[p].front()) << p;
  ASSERT_EQ(gates.size(), 3u);
  EXPECT_EQ(gates[0], 1.0f);
  EXPECT_LT(gates[1], 1.0f);  // a sigmoid of the drawn gate: never exactly 1
}

TEST(Steering, PerTokenStreamsMatchTheirDistributionsByHand) {
  SiameseFixture f;
  torch::NoGradGuard no_grad;
  const auto base = imsm::load_llama(f.w.model, {});
  imsm::ForwardInput in;
  in.input_ids = torch::tensor(std::vector<int64_t>(kPrompts[0].begin(), kPrompts[0].end())).unsqueeze(0);  // [1, T]
  const torch::Tensor p_M = base->forward(in).select(1, -1).squeeze(0).to(torch::kFloat64).softmax(-1);       // [V]: original
  const torch::Tensor p_Mp = f.model->forward(in).select(1, -1).squeeze(0).to(torch::kFloat64).softmax(-1);   // [V]: LoRA alone
  imsm::ImsmStep step(*f.model, *f.gate, true);
  step.set_trace_top_k(3);
  imsm::generate(step, {kPrompts[0]}, greedy(1));  // the first token: the prompt's last position
  const auto P = p_M.accessor<double, 1>(), Q = p_Mp.accessor<double, 1>();
  double entropy_M = 0, entropy_Mp = 0, kl = 0;
  for (int64_t v = 0; v < p_M.size(0); ++v) {
    entropy_M -= P[v] * std::log(P[v]);
    entropy_Mp -= Q[v] * std::log(Q[v]);
    kl += P[v] * (std::log(P[v]) - std::log(Q[v]));
  }
  // fp32 log-softmax against fp64 sums over 29 tokens: 1e-5.
  EXPECT_NEAR(step.last_entropies()[0][0].item<double>(), entropy_M, 1e-5);
  EXPECT_NEAR(step.last_entropies()[1][0].item<double>(), entropy_Mp, 1e-5);
  EXPECT_NEAR(step.last_kl()[0].item<double>(), kl, 1e-5);
  EXPECT_GT(kl, 1e-3) << "the two memories should disagree somewhere";
  for (const int64_t v : {int64_t{3}, int64_t{17}}) {
    EXPECT_NEAR(std::exp(step.last_log_probs()[0][0][v].item<double>()), P[v], 1e-6);
    EXPECT_NEAR(std::exp(step.last_log_probs()[1][0][v].item<double>()), Q[v], 1e-6);
  }
  EXPECT_NEAR(step.last_log_probs()[2][0].exp().sum().item<double>(), 1.0, 1e-5);  // the mix: a distribution
}

}  // namespace
