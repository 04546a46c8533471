// Is a difference between two models' scores on a benchmark real? The tests
// of Dror et al. 2018 ("The Hitchhiker's Guide to Testing Statistical
// Significance in NLP"): for a metric that is a per-item correct/incorrect
// (EM, Contain, Accuracy), McNemar's exact test on the discordant items; for
// any other (F1_overlap, F1_score, MCC: not a sum of independent 0/1 items)
// the paired bootstrap's p-value. The interval is always the paired
// bootstrap's: items resampled with replacement (the same items for both
// models: paired), and each model's seeds resampled with replacement, so
// the interval carries the variation over training seeds too. Holm's
// correction controls the family-wise error over a suite's benchmarks.
// Reproducible: a fixed number of resamples from a fixed seed. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/metrics.h"

namespace imsm {

// One model on one benchmark: its per-item scores for each training seed,
// items in the benchmark's order (the same order for every model compared).
struct SeedScores {
  std::vector<int64_t> seeds;                 // one per row of `items` (0 for the base model)
  std::vector<std::vector<ItemScore>> items;  // [seed][item]
};

struct BootstrapOptions {
  int64_t resamples = 10000;
  uint64_t seed = 20180715;  // ACL 2018, where Dror et al. appeared
  double level = 0.95;
};

struct Difference {
  double value = 0;         // metric(a) - metric(b), each the mean over its seeds
  double low = 0, high = 0;  // the bootstrap's percentile interval at `level`
  std::string test;         // "McNemar exact" | "McNemar randomization" | "paired bootstrap"
  double p = 1;             // two-sided, from `test`
  double p_holm = 1;        // after Holm's correction over the family (holm() sets it; p until then)
  int64_t discordant_a = 0, discordant_b = 0;  // right/wrong metrics: items a did better on than b (seed means), and the reverse
};

// A difference to claim: significant on the examples (Holm-adjusted p <
// alpha) and robust to the training seed (the interval, which resamples the
// seeds too, excludes 0). McNemar's test holds the trained models fixed; a
// claim about a method must also survive another draw of its seeds, so
// both are asked for, and no mark ever sits on an interval that holds 0.
bool significant(const Difference& d, double alpha = 0.05);

// True for the metrics whose item scores are 0 or 1 (McNemar applies).
bool is_binary_metric(const std::string& metric);

// `a` against `b` on one benchmark. BadInput when the two hold different
// numbers of items.
Difference compare_scores(const std::string& metric, const SeedScores& a, const SeedScores& b, const BootstrapOptions& options = {});

// The mean over several benchmarks of `a` − `b` (metrics[k] on a[k] and
// b[k]): a suite's change in one number (the retention of a trade-off). The
// paired bootstrap draws each benchmark's items on their own and each
// model's seeds once for every benchmark (a seed is one trained model; when
// a model's benchmarks hold different seeds, each benchmark draws its own);
// p: the paired bootstrap's. BadInput as compare_scores.
Difference compare_mean(const std::vector<std::string>& metrics, const std::vector<SeedScores>& a, const std::vector<SeedScores>& b,
                        const BootstrapOptions& options = {});

// McNemar's exact two-sided p-value for `b` items one way and `c` the other:
// min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2).
double mcnemar_exact(int64_t b, int64_t c);

// Holm's step-down adjustment of a family of p-values (in their order).
std::vector<double> holm(const std::vector<double>& p);
// Sets each difference's p_holm from the family's p values.
void adjust_holm(const std::vector<Difference*>& family);

}  // namespace imsm
