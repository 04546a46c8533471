// imsm::dropout (model/dropout.h) against what dropout is: each element kept
// with probability 1 − p, independently, the kept ones scaled by exactly
// 1 / (1 − p), the gradient through the same mask; one mask per generator
// state, whatever the number of threads. The statistical bounds are five
// binomial standard deviations: a correct mask fails them about once in
// 3.5 million runs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/dropout.h"

namespace {

double five_sigma(double q, double n) { return 5.0 * std::sqrt(q * (1.0 - q) / n); }

TEST(Dropout, KeepsOneMinusPIndependentlyAndScalesTheKept) {
  torch::manual_seed(3);
  for (const double p : {0.05, 0.1, 0.5}) {
    SCOPED_TRACE(p);
    const torch::Tensor x = torch::ones({1000, 1000});
    const torch::Tensor y = imsm::dropout(x, p, true);
    const torch::Tensor dropped = y.eq(0);
    const double n = static_cast<double>(x.numel());
    EXPECT_NEAR(dropped.to(torch::kFloat64).mean().item<double>(), p, five_sigma(p, n));
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    EXPECT_TRUE(torch::equal(y.masked_select(dropped.logical_not()), torch::full({y.numel() - dropped.sum().item<int64_t>()}, scale)));
    // Neighbours independent: both dropped with probability p², along the memory order.
    const torch::Tensor flat = dropped.flatten();
    const torch::Tensor both = flat.narrow(0, 0, flat.numel() - 1).logical_and(flat.narrow(0, 1, flat.numel() - 1));
    EXPECT_NEAR(both.to(torch::kFloat64).mean().item<double>(), p * p, five_sigma(p * p, n - 1));
  }
}

TEST(Dropout, TheGradientGoesThroughTheSameMask) {
  torch::manual_seed(5);
  const torch::Tensor x = (torch::rand({64, 48}) + 0.5).requires_grad_(true);  // no zero: y / x is the mask
  const torch::Tensor y = imsm::dropout(x, 0.2, true);
  const torch::Tensor w = torch::randn({64, 48});
  (y * w).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), w * (y / x).detach(), 1e-6, 0));  // d(Σ w·x·m)/dx = w·m, m = y/x to fp32 rounding
}

TEST(Dropout, OneMaskPerGeneratorStateWhateverTheThreads) {
  const int threads = at::get_num_threads();
  const torch::Tensor x = torch::ones({300, 700});
  torch::manual_seed(7);
  at::set_num_threads(1);
  const torch::Tensor one = imsm::dropout(x, 0.3, true);
  torch::manual_seed(7);
  at::set_num_threads(std::max(2, threads));
  const torch::Tensor two = imsm::dropout(x, 0.3, true);
  const torch::Tensor next = imsm::dropout(x, 0.3, true);  // the generator moved on
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_FALSE(torch::equal(two, next));
}

TEST(Dropout, OffIsTheInputItself) {
  const torch::Tensor x = torch::randn({4, 5});
  EXPECT_TRUE(imsm::dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(imsm::dropout(x, 0.0, true).is_same(x));
}

}  // namespace
