// Intruder dimensions (peft/intruders.h) on constructed weights whose
// singular vectors are known by hand. The base W0 [64, 32] is diag(s) on its
// first 32 rows (s from 10 down to 1) and zero below: its left singular
// vectors are e_0 .. e_31. A change σ · e_40 e_c^T adds, in column c, a
// component along e_40, an output direction the base never writes: column c
// becomes s_c e_c + σ e_40, a singular value √(s_c² + σ²) whose left vector
// has best |cos| s_c / √(s_c² + σ²) with the base's; every other column keeps
// its vector (cos 1).
#include <gtest/gtest.h>

#include <cmath>

#include "peft/intruders.h"

namespace {

torch::Tensor base_weight() {
  torch::Tensor w = torch::zeros({64, 32}, torch::kFloat64);
  for (int64_t i = 0; i < 32; ++i) w[i][i] = 10.0 - 9.0 * static_cast<double>(i) / 31.0;  // 10 .. 1
  return w;
}

torch::Tensor tuned_weight(int64_t column, double sigma) {
  torch::Tensor w = base_weight();
  w[40][column] = sigma;
  return w;
}

// fp64 decompositions of exact matrices: the similarities to a few ulps.
constexpr double kTol = 1e-9;

TEST(Intruders, ANewOutputDirectionAtTheTopIsOneIntruder) {
  const imsm::IntruderCount c = imsm::count_intruders(base_weight(), tuned_weight(0, 100.0), {10, 0.5});
  EXPECT_EQ(c.top_k, 10);
  EXPECT_EQ(c.intruders, 1);
  EXPECT_NEAR(c.least_similarity, 10.0 / std::sqrt(100.0 + 10000.0), kTol);  // 0.0995
}

TEST(Intruders, ASmallChangeIsNone) {
  const imsm::IntruderCount c = imsm::count_intruders(base_weight(), tuned_weight(0, 1.0), {10, 0.5});
  EXPECT_EQ(c.intruders, 0);
  EXPECT_NEAR(c.least_similarity, 10.0 / std::sqrt(101.0), kTol);  // 0.995
}

TEST(Intruders, TheThresholdDecides) {
  // σ = s_0: the vector is (e_0 + e_40) / √2, |cos| 0.7071 with e_0.
  EXPECT_EQ(imsm::count_intruders(base_weight(), tuned_weight(0, 10.0), {10, 0.5}).intruders, 0);
  EXPECT_EQ(imsm::count_intruders(base_weight(), tuned_weight(0, 10.0), {10, 0.75}).intruders, 1);
}

TEST(Intruders, OnlyTheTopKCount) {
  // Column 31 (s = 1) with σ = 2: singular value √5 ≈ 2.24, ranked 29th of 32; |cos| 1/√5 = 0.447.
  EXPECT_EQ(imsm::count_intruders(base_weight(), tuned_weight(31, 2.0), {10, 0.5}).intruders, 0);
  const imsm::IntruderCount all = imsm::count_intruders(base_weight(), tuned_weight(31, 2.0), {32, 0.5});
  EXPECT_EQ(all.top_k, 32);
  EXPECT_EQ(all.intruders, 1);
  EXPECT_NEAR(all.least_similarity, 1.0 / std::sqrt(5.0), kTol);
  EXPECT_EQ(imsm::count_intruders(base_weight(), tuned_weight(31, 2.0), {100, 0.5}).top_k, 32);  // no more vectors than that
}

TEST(Intruders, TheBaseAgainstItselfHasNone) {
  const imsm::IntruderCount c = imsm::count_intruders(base_weight(), base_weight(), {10, 0.5});
  EXPECT_EQ(c.intruders, 0);
  EXPECT_NEAR(c.least_similarity, 1.0, kTol);
}

}  // namespace
