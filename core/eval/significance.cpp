#include "eval/significance.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "util/error.h"

namespace imsm {

namespace {

// The metric of one seed's items, each counted as often as `counts` says.
double metric_of(const std::string& metric, const std::vector<ItemScore>& items, const std::vector<double>& counts) {
  MetricTally t;
  for (size_t i = 0; i < items.size(); ++i)
    if (counts[i] > 0) t.add(items[i], counts[i]);
  return t.value(metric);
}

// The mean of the metric over the seeds drawn (`seed_counts` times each).
double mean_over_seeds(const std::string& metric, const SeedScores& s, const std::vector<double>& item_counts,
                       const std::vector<double>& seed_counts) {
  double sum = 0, n = 0;
  for (size_t k = 0; k < s.items.size(); ++k)
    if (seed_counts[k] > 0) {
      sum += seed_counts[k] * metric_of(metric, s.items[k], item_counts);
      n += seed_counts[k];
    }
  return sum / n;
}

// Draws n indices in [0, n) with replacement, as counts. `engine() % n`: the
// engine's output is fixed by the standard (std::uniform_int_distribution's
// mapping is not), so a report resamples alike on every platform; the modulo
// bias is below 2^-50 for any benchmark size.
void draw_counts(std::mt19937_64& engine, std::vector<double>& counts) {
  std::fill(counts.begin(), counts.end(), 0.0);
  const uint64_t n = counts.size();
  for (uint64_t i = 0; i < n; ++i) counts[engine() % n] += 1;
}

// The value at quantile q of sorted values (linear interpolation, numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (at - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Each item's difference of the two models' means over their seeds, on a
// right/wrong metric: in {-1, 0, +1} with one seed each, finer with several.
std::vector<double> item_differences(const std::string& metric, const SeedScores& a, const SeedScores& b) {
  auto correct = [&](const ItemScore& s) { return metric == "EM" ? s.em : metric == "Contain" ? s.contain : s.accuracy; };
  auto seed_mean = [&](const SeedScores& s, size_t i) {
    double sum = 0;
    for (const auto& row : s.items) sum += correct(row[i]);
    return sum / static_cast<double>(s.items.size());
  };
  std::vector<double> out;
  for (size_t i = 0; i < a.items.front().size(); ++i) out.push_back(seed_mean(a, i) - seed_mean(b, i));
  return out;
}

// The two-sided p of the paired randomization test on the items' differences:
// under the null each difference's sign is a fair coin; p = P(|sum of signed
// differences| >= |observed sum|). Exact over every sign pattern up to 20
// non-zero items, else from `draws` random patterns ((count + 1) / (draws + 1)).
// With every difference in {-1, +1} this is McNemar's exact test.
double sign_flip_p(const std::vector<double>& differences, int64_t draws, uint64_t seed) {
  std::vector<double> nonzero;
  for (double x : differences)
    if (x != 0) nonzero.push_back(x);
  if (nonzero.empty()) return 1.0;
  double observed = 0;
  for (double x : nonzero) observed += x;
  const double threshold = std::abs(observed) - 1e-9;  // sums of a few dyadic fractions: exact up to rounding
  if (nonzero.size() <= 20) {
    const uint64_t patterns = uint64_t{1} << nonzero.size();
    uint64_t at_least = 0;
    for (uint64_t mask = 0; mask < patterns; ++mask) {
      double sum = 0;
      for (size_t i = 0; i < nonzero.size(); ++i) sum += (mask >> i & 1) ? -nonzero[i] : nonzero[i];
      at_least += std::abs(sum) >= threshold;
    }
    return static_cast<double>(at_least) / static_cast<double>(patterns);
  }
  std::mt19937_64 engine(seed);
  int64_t at_least = 0;
  for (int64_t r = 0; r < draws; ++r) {
    double sum = 0;
    for (size_t i = 0; i < nonzero.size(); i += 64) {
      const uint64_t bits = engine();
      for (size_t j = i; j < std::min(nonzero.size(), i + 64); ++j) sum += (bits >> (j - i) & 1) ? -nonzero[j] : nonzero[j];
    }
    at_least += std::abs(sum) >= threshold;
  }
  return static_cast<double>(at_least + 1) / static_cast<double>(draws + 1);
}

// The items every seed of both models was scored on; BadInput when they differ or there are none.
size_t common_items(const std::string& metric, const SeedScores& a, const SeedScores& b) {
  if (a.items.empty() || b.items.empty()) throw_bad_input(metric, "a comparison needs scores of both models");
  const size_t n = a.items.front().size();
  for (const auto* s : {&a, &b})
    for (const auto& row : s->items)
      if (row.size() != n) throw_bad_input(metric, "the models were scored on different numbers of items (" + std::to_string(row.size()) +
                                                       " and " + std::to_string(n) + "): compare runs of one benchmark file");
  if (n == 0) throw_bad_input(metric, "no items to compare");
  return n;
}

// The interval and the two-sided bootstrap p of `value` from its resampled values.
void bootstrap_interval(std::vector<double>& deltas, const BootstrapOptions& o, Difference& d) {
  std::sort(deltas.begin(), deltas.end());
  d.low = quantile(deltas, (1 - o.level) / 2);
  d.high = quantile(deltas, 1 - (1 - o.level) / 2);
  // Two-sided: twice the share of resampled differences on the far side of 0 (at least one resample's worth).
  const double below = static_cast<double>(std::upper_bound(deltas.begin(), deltas.end(), 0.0) - deltas.begin());
  const double above = static_cast<double>(deltas.end() - std::lower_bound(deltas.begin(), deltas.end(), 0.0));
  d.test = "paired bootstrap";
  d.p = d.value == 0 ? 1.0 : std::min(1.0, 2 * std::max(1.0, d.value > 0 ? below : above) / static_cast<double>(deltas.size()));
}

}  // namespace

bool significant(const Difference& d, double alpha) { return d.p_holm < alpha && (d.low > 0 || d.high < 0); }

bool is_binary_metric(const std::string& metric) { return metric == "EM" || metric == "Contain" || metric == "Accuracy"; }

double mcnemar_exact(int64_t b, int64_t c) {
  const int64_t n = b + c, k = std::min(b, c);
  if (n == 0) return 1.0;
  // P(X <= k), X ~ Binomial(n, 1/2), term by term: P(i + 1) = P(i) (n - i) / (i + 1). P(0) = 2^-n is exact in a
  // double up to n = 1074; past that, from the log of P(0) (a benchmark of more than a thousand discordant items).
  double term = n <= 1000 ? std::ldexp(1.0, -static_cast<int>(n)) : 0.0, tail = 0;
  if (n > 1000) {
    double log_term = -static_cast<double>(n) * std::log(2.0), log_tail = -INFINITY;
    for (int64_t i = 0; i <= k; ++i) {
      log_tail = std::max(log_tail, log_term) + std::log1p(std::exp(-std::abs(log_tail - log_term)));
      log_term += std::log(static_cast<double>(n - i)) - std::log(static_cast<double>(i + 1));
    }
    return std::min(1.0, 2 * std::exp(log_tail));
  }
  for (int64_t i = 0; i <= k; ++i) {
    tail += term;
    term = term * static_cast<double>(n - i) / static_cast<double>(i + 1);
  }
  return std::min(1.0, 2 * tail);
}

std::vector<double> holm(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t j = 0; j < m; ++j) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - j) * p[order[j]]));
    adjusted[order[j]] = running;
  }
  return adjusted;
}

void adjust_holm(const std::vector<Difference*>& family) {
  std::vector<double> p;
  for (const Difference* d : family) p.push_back(d->p);
  const std::vector<double> adjusted = holm(p);
  for (size_t i = 0; i < family.size(); ++i) family[i]->p_holm = adjusted[i];
}

Difference compare_scores(const std::string& metric, const SeedScores& a, const SeedScores& b, const BootstrapOptions& o) {
  const size_t n = common_items(metric, a, b);

  const std::vector<double> all_items(n, 1.0), all_a(a.items.size(), 1.0), all_b(b.items.size(), 1.0);
  Difference d;
  d.value = mean_over_seeds(metric, a, all_items, all_a) - mean_over_seeds(metric, b, all_items, all_b);

  // The paired bootstrap: the same items for both, each model's seeds drawn on their own.
  std::mt19937_64 engine(o.seed);
  std::vector<double> items(n), seeds_a(a.items.size()), seeds_b(b.items.size()), deltas;
  deltas.reserve(static_cast<size_t>(o.resamples));
  for (int64_t r = 0; r < o.resamples; ++r) {
    draw_counts(engine, items);
    draw_counts(engine, seeds_a);
    draw_counts(engine, seeds_b);
    deltas.push_back(mean_over_seeds(metric, a, items, seeds_a) - mean_over_seeds(metric, b, items, seeds_b));
  }
  bootstrap_interval(deltas, o, d);

  if (is_binary_metric(metric)) {
    const std::vector<double> differences = item_differences(metric, a, b);
    bool whole = true;  // every item's difference -1, 0 or +1: McNemar's setting
    for (double x : differences) {
      d.discordant_a += x > 0;
      d.discordant_b += x < 0;
      whole = whole && (x == 0 || std::abs(x) == 1);
    }
    d.test = whole ? "McNemar exact" : "McNemar randomization";
    d.p = whole ? mcnemar_exact(d.discordant_a, d.discordant_b) : sign_flip_p(differences, o.resamples, o.seed);
  }
  d.p_holm = d.p;
  return d;
}

Difference compare_mean(const std::vector<std::string>& metrics, const std::vector<SeedScores>& a, const std::vector<SeedScores>& b,
                        const BootstrapOptions& o) {
  if (metrics.empty() || metrics.size() != a.size() || metrics.size() != b.size()) throw_internal("compare_mean: one metric and two scores per benchmark");
  const size_t K = metrics.size();
  std::vector<std::vector<double>> items(K);
  for (size_t k = 0; k < K; ++k) items[k].assign(common_items(metrics[k], a[k], b[k]), 1.0);
  auto same_seeds = [&](const std::vector<SeedScores>& s) {
    return std::all_of(s.begin(), s.end(), [&](const SeedScores& x) { return x.seeds == s.front().seeds; });
  };
  const bool shared_a = same_seeds(a), shared_b = same_seeds(b);
  auto mean_change = [&](const std::vector<std::vector<double>>& item_counts, const std::vector<std::vector<double>>& seeds_a,
                         const std::vector<std::vector<double>>& seeds_b) {
    double sum = 0;
    for (size_t k = 0; k < K; ++k)
      sum += mean_over_seeds(metrics[k], a[k], item_counts[k], seeds_a[shared_a ? 0 : k]) -
             mean_over_seeds(metrics[k], b[k], item_counts[k], seeds_b[shared_b ? 0 : k]);
    return sum / static_cast<double>(K);
  };
  std::vector<std::vector<double>> seeds_a(K), seeds_b(K);
  for (size_t k = 0; k < K; ++k) {
    seeds_a[k].assign(a[k].items.size(), 1.0);
    seeds_b[k].assign(b[k].items.size(), 1.0);
  }
  Difference d;
  d.value = mean_change(items, seeds_a, seeds_b);
  std::mt19937_64 engine(o.seed);
  std::vector<double> deltas;
  deltas.reserve(static_cast<size_t>(o.resamples));
  for (int64_t r = 0; r < o.resamples; ++r) {
    for (auto& counts : items) draw_counts(engine, counts);
    for (size_t k = 0; k < (shared_a ? 1 : K); ++k) draw_counts(engine, seeds_a[k]);
    for (size_t k = 0; k < (shared_b ? 1 : K); ++k) draw_counts(engine, seeds_b[k]);
    deltas.push_back(mean_change(items, seeds_a, seeds_b));
  }
  bootstrap_interval(deltas, o, d);
  d.p_holm = d.p;
  return d;
}

}  // namespace imsm
