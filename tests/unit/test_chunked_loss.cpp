// The chunked LM head + loss (train/chunked_loss.h) against the plain path:
// causal_lm_loss of the full logits. fp64: the same value and gradients to
// 1e-12 (only the order of the sums differs); fp32: to 1e-5 relative, the
// rounding of sums over a vocabulary of 300. And a real training step: the
// same loss and adapter gradients through the siamese target.
#include <gtest/gtest.h>

#include "siamese_fixture.h"
#include "train/chunked_loss.h"
#include "train/loss.h"

namespace {

struct Case {
  torch::Tensor hidden, weight, labels;
};

// hidden [2, 9, 16], head [300, 16], labels with unscored (-100) prompt positions and padding.
Case make_case(torch::ScalarType dtype) {
  torch::manual_seed(7);
  Case c;
  c.hidden = torch::randn({2, 9, 16}, torch::dtype(dtype)).requires_grad_(true);
  c.weight = (torch::randn({300, 16}, torch::dtype(dtype)) * 0.5).requires_grad_(true);
  c.labels = torch::randint(0, 300, {2, 9}, torch::kInt64);
  c.labels.narrow(1, 0, 3).fill_(-100);          // the prompt
  c.labels[1].narrow(0, 7, 2).fill_(-100);       // padding of the second row
  return c;
}

}  // namespace

TEST(ChunkedLoss, EqualsThePlainPathInValueAndGradients) {
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    Case plain = make_case(dtype);
    const torch::Tensor expected = imsm::causal_lm_loss(torch::matmul(plain.hidden, plain.weight.t()), plain.labels);
    expected.backward();
    for (const int64_t chunk : {1, 4, 1000}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk));
      Case c = make_case(dtype);
      const torch::Tensor loss = imsm::chunked_causal_lm_loss(c.hidden, c.weight, c.labels, chunk);
      loss.backward();
      EXPECT_NEAR(loss.item<double>(), expected.item<double>(), tol * expected.item<double>());
      EXPECT_LE((c.hidden.grad() - plain.hidden.grad()).abs().max().item<double>(), tol);
      EXPECT_LE((c.weight.grad() - plain.weight.grad()).abs().max().item<double>(), tol);
      EXPECT_EQ(c.hidden.grad()[0][8].abs().sum().item<double>(), 0.0);  // the last position predicts nothing
    }
  }
}

// Through the training target: the same loss and the same adapter and gate gradients with chunks of 5 positions.
TEST(ChunkedLoss, TrainingTargetGivesTheSameLossAndGradients) {
  imsm::testing::SiameseFixture f;
  imsm::SiameseTarget plain_target(*f.model, *f.adapters, f.gate.get(), 1.0, 0), chunked_target(*f.model, *f.adapters, f.gate.get(), 1.0, 5);
  plain_target.set_training(false);  // no dropout: the two paths see the same network
  const torch::Tensor plain = f.step(plain_target, 1), chunked = f.step(chunked_target, 1);
  EXPECT_NEAR(chunked[0].item<double>(), plain[0].item<double>(), 1e-5);  // fp32 model: rounding of the sums
  EXPECT_LE((chunked - plain).abs().max().item<double>(), 1e-5);
  EXPECT_GT(plain.narrow(0, 1, plain.size(0) - 2).abs().max().item<double>(), 0.0);  // gradients there to compare
}
