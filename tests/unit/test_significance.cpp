// The significance tests of eval/significance.h against values computed by
// hand: McNemar's exact p from the binomial sums, Holm's step-down by hand,
// the paired bootstrap's interval against the exact binomial quantiles of the
// one case where it is known in closed form.
#include <gtest/gtest.h>

#include "eval/significance.h"
#include "test_util.h"

namespace {

using imsm::ItemScore;
using imsm::SeedScores;

// One seed of `n` items, correct (EM, Contain and Accuracy 1) where `right(i)`.
std::vector<ItemScore> answers(int n, const std::function<bool(int)>& right) {
  std::vector<ItemScore> out;
  for (int i = 0; i < n; ++i) {
    const double r = right(i) ? 1.0 : 0.0;
    out.push_back({r, r, r, r, 0, 0});
  }
  return out;
}

TEST(Significance, McNemarExactIsTheTwoSidedBinomialTail) {
  EXPECT_DOUBLE_EQ(imsm::mcnemar_exact(1, 6), 0.125);  // 2 (C(7,0) + C(7,1)) / 2^7 = 16/128
  EXPECT_DOUBLE_EQ(imsm::mcnemar_exact(0, 5), 0.0625);  // 2 / 2^5
  EXPECT_DOUBLE_EQ(imsm::mcnemar_exact(3, 3), 1.0);
  EXPECT_DOUBLE_EQ(imsm::mcnemar_exact(0, 0), 1.0);
  EXPECT_NEAR(imsm::mcnemar_exact(10, 30), 0.0022214337732293643, 1e-12);  // 2 sum_{k<=10} C(40,k) / 2^40 (Python's math.comb)
  EXPECT_NEAR(imsm::mcnemar_exact(30, 10), imsm::mcnemar_exact(10, 30), 1e-15);
  // Past a thousand discordant items, in logs: 2 P(X <= 950), X ~ Binomial(2000, 1/2), is 0.026824146240280695
  // (Python, exact fractions: 2 * sum(comb(2000, k) for k in range(951)) / 2**2000); relative tolerance 1e-9 for the
  // ~950 terms summed in logs.
  EXPECT_NEAR(imsm::mcnemar_exact(950, 1050), 0.026824146240280695, 0.026824146240280695 * 1e-9);
}

TEST(Significance, HolmStepsDown) {
  const auto a = imsm::holm({0.01, 0.04, 0.03});  // sorted 0.01 x3, 0.03 x2 = 0.06, 0.04 x1 -> max(0.06, 0.04)
  EXPECT_NEAR(a[0], 0.03, 1e-15);
  EXPECT_NEAR(a[1], 0.06, 1e-15);
  EXPECT_NEAR(a[2], 0.06, 1e-15);
  const auto b = imsm::holm({0.5, 0.001});
  EXPECT_NEAR(b[0], 0.5, 1e-15);
  EXPECT_NEAR(b[1], 0.002, 1e-15);
  EXPECT_EQ(imsm::holm({0.7, 0.6}), (std::vector<double>{1.0, 1.0}));  // capped at 1
}

TEST(Significance, TallyWeightsCountAnItemSeveralTimes) {
  imsm::MetricTally twice, weighted;
  const ItemScore yes{1, 1, 0.5, 1, 1, 1}, no{0, 0, 0, 0, 1, 0};
  twice.add(yes);
  twice.add(yes);
  twice.add(no);
  weighted.add(yes, 2);
  weighted.add(no, 1);
  for (const char* m : {"EM", "Contain", "F1_overlap", "Accuracy", "F1_score", "MCC"}) EXPECT_DOUBLE_EQ(twice.value(m), weighted.value(m)) << m;
  EXPECT_DOUBLE_EQ(weighted.value("F1_score"), 0.8);  // tp 2, fp 1: 4 / 5
  imsm::testing::expect_bad_input([&] { weighted.value("Perplexity"); }, {"Perplexity"});
}

// A mark needs both: the examples' test and an interval without 0.
TEST(Significance, AClaimNeedsTheTestAndAnIntervalWithoutZero) {
  imsm::Difference d;
  d.p_holm = 0.01;
  d.low = -0.2;
  d.high = 0.03;
  EXPECT_FALSE(imsm::significant(d));  // the seeds disagree
  d.high = -0.01;
  EXPECT_TRUE(imsm::significant(d));
  d.p_holm = 0.06;
  EXPECT_FALSE(imsm::significant(d));  // the examples do not carry it
}

TEST(Significance, IdenticalModelsDifferByNothing) {
  SeedScores a{{1}, {answers(50, [](int i) { return i % 3 == 0; })}};
  const imsm::Difference d = imsm::compare_scores("EM", a, a);
  EXPECT_EQ(d.value, 0.0);
  EXPECT_EQ(d.low, 0.0);
  EXPECT_EQ(d.high, 0.0);
  EXPECT_EQ(d.p, 1.0);
  EXPECT_EQ(d.test, "McNemar exact");
}

// One seed each: a is right on 20 of 200 items where b is wrong, and agrees
// with b elsewhere. The resampled difference is then exactly Binomial(200,
// 0.1) / 200, whose 2.5% and 97.5% quantiles are 12/200 and 29/200 (the CDF
// by hand: 0.0168 at 11, 0.0320 at 12; 0.9729 at 28, 0.9837 at 29).
// Tolerance: one item either way, for the interpolation between neighbouring
// resampled values and the Monte Carlo error of 10,000 resamples.
TEST(Significance, BootstrapIntervalIsTheBinomialQuantiles) {
  const SeedScores a{{1}, {answers(200, [](int i) { return i % 2 == 0 || i % 10 == 1; })}};
  const SeedScores b{{0}, {answers(200, [](int i) { return i % 2 == 0; })}};
  const imsm::Difference d = imsm::compare_scores("Accuracy", a, b);
  EXPECT_NEAR(d.value, 0.1, 1e-12);
  EXPECT_NEAR(d.low, 0.06, 0.005 + 1e-9);
  EXPECT_NEAR(d.high, 0.145, 0.005 + 1e-9);
  EXPECT_EQ(d.discordant_a, 20);
  EXPECT_EQ(d.discordant_b, 0);
  EXPECT_DOUBLE_EQ(d.p, 2.0 / 1048576.0);  // 2 / 2^20
  EXPECT_TRUE(imsm::significant(d));
  // Reproducible: the same resamples from the same seed; another seed moves the interval a little.
  const imsm::Difference again = imsm::compare_scores("Accuracy", a, b);
  EXPECT_EQ(again.low, d.low);
  EXPECT_EQ(again.high, d.high);
}

// Seeds are resampled too: a model whose seeds disagree gets a wider interval
// than one whose seeds all score the middle seed's items.
TEST(Significance, SeedsThatDisagreeWidenTheInterval) {
  const auto mid = answers(100, [](int i) { return i % 2 == 0; });
  const SeedScores spread{{1, 2, 3}, {answers(100, [](int i) { return i % 10 < 3; }), mid, answers(100, [](int i) { return i % 10 < 7; })}};
  const SeedScores steady{{1, 2, 3}, {mid, mid, mid}};
  const SeedScores base{{0}, {answers(100, [](int i) { return i % 4 == 0; })}};
  const imsm::Difference wide = imsm::compare_scores("Contain", spread, base), narrow = imsm::compare_scores("Contain", steady, base);
  EXPECT_NEAR(wide.value, narrow.value, 1e-12);  // the same mean over seeds: 0.5 - 0.25
  EXPECT_GT(wide.high - wide.low, 1.5 * (narrow.high - narrow.low));
}

// Several seeds: an item's difference of seed means is no longer -1, 0 or +1,
// and McNemar's test becomes its randomization form. By hand: differences
// -0.5, -0.5, -1, -1, -1 reach |sum| 4 only with all signs alike: 2 of 32
// patterns. 30 items of +0.5: exactly 2 / 2^30, beyond 10,000 draws, which
// then report their floor 1 / 10,001.
TEST(Significance, SeveralSeedsTakeMcNemarsRandomizationForm) {
  const SeedScores base{{0}, {answers(10, [](int i) { return i < 9; })}};
  const SeedScores two{{1, 2}, {answers(10, [](int i) { return i < 6; }), answers(10, [](int i) { return i < 4; })}};
  const imsm::Difference d = imsm::compare_scores("EM", two, base);
  EXPECT_EQ(d.test, "McNemar randomization");
  EXPECT_DOUBLE_EQ(d.p, 2.0 / 32.0);
  EXPECT_EQ(d.discordant_b, 5);
  const SeedScores half{{1, 2}, {answers(30, [](int) { return true; }), answers(30, [](int) { return false; })}};
  const SeedScores none{{0}, {answers(30, [](int) { return false; })}};
  const imsm::Difference many = imsm::compare_scores("Contain", half, none);
  EXPECT_EQ(many.test, "McNemar randomization");
  EXPECT_DOUBLE_EQ(many.p, 1.0 / 10001.0);
  // Seeds that agree: back to McNemar's exact test.
  const SeedScores same{{1, 2}, {answers(10, [](int i) { return i < 6; }), answers(10, [](int i) { return i < 6; })}};
  EXPECT_EQ(imsm::compare_scores("EM", same, base).test, "McNemar exact");
}

// A metric that is not a sum of 0/1 items gets the bootstrap's p-value.
TEST(Significance, OtherMetricsGetTheBootstrapsP) {
  std::vector<ItemScore> good, poor;
  for (int i = 0; i < 80; ++i) {
    good.push_back({0, 0, 0.8 + 0.002 * (i % 10), 0, 0, 0});
    poor.push_back({0, 0, 0.3 + 0.004 * (i % 7), 0, 0, 0});
  }
  const imsm::Difference d = imsm::compare_scores("F1_overlap", SeedScores{{1}, {good}}, SeedScores{{1}, {poor}});
  EXPECT_EQ(d.test, "paired bootstrap");
  EXPECT_GT(d.low, 0.4);
  EXPECT_LE(d.p, 2.0 / 10000);  // no resample on the far side of 0: the smallest p 10,000 resamples can give
  const imsm::Difference none = imsm::compare_scores("F1_overlap", SeedScores{{1}, {good}}, SeedScores{{1}, {good}});
  EXPECT_EQ(none.p, 1.0);
  imsm::testing::expect_bad_input([&] { imsm::compare_scores("EM", SeedScores{{1}, {good}}, SeedScores{{1}, {answers(3, [](int) { return true; })}}); },
                                  {"EM", "different numbers of items"});
}

}  // namespace
