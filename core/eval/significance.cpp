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

// McNemar's discordant counts: the items where a's mean over its seeds beats
// b's, and the reverse. With one seed each these are the items one model got
// right and the other wrong (McNemar's test); with several, the test is the
// sign test on the items' seed-mean differences, which it generalises.
void count_discordant(const std::string& metric, const SeedScores& a, const SeedScores& b, Difference& d) {
  auto correct = [&](const ItemScore& s) { return metric == "EM" ? s.em : metric == "Contain" ? s.contain : s.accuracy; };
  auto seed_mean = [&](const SeedScores& s, size_t i) {
    double sum = 0;
    for (const auto& row : s.items) sum += correct(row[i]);
    return sum / static_cast<double>(s.items.size());
  };
  for (size_t i = 0; i < a.items.front().size(); ++i) {
    const double x = seed_mean(a, i), y = seed_mean(b, i);
    d.discordant_a += x > y;
    d.discordant_b += x < y;
  }
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

Difference compare_scores(const std::string& metric, const SeedScores& a, const SeedScores& b, const BootstrapOptions& o) {
  if (a.items.empty() || b.items.empty()) throw_bad_input(metric, "a comparison needs scores of both models");
  const size_t n = a.items.front().size();
  for (const auto* s : {&a, &b})
    for (const auto& row : s->items)
      if (row.size() != n) throw_bad_input(metric, "the models were scored on different numbers of items (" + std::to_string(row.size()) +
                                                       " and " + std::to_string(n) + "): compare runs of one benchmark file");
  if (n == 0) throw_bad_input(metric, "no items to compare");

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
  std::sort(deltas.begin(), deltas.end());
  d.low = quantile(deltas, (1 - o.level) / 2);
  d.high = quantile(deltas, 1 - (1 - o.level) / 2);

  if (is_binary_metric(metric)) {
    count_discordant(metric, a, b, d);
    d.test = "McNemar exact";
    d.p = mcnemar_exact(d.discordant_a, d.discordant_b);
  } else {
    // Two-sided: twice the share of resampled differences on the far side of 0 (at least one resample's worth).
    const double below = static_cast<double>(std::upper_bound(deltas.begin(), deltas.end(), 0.0) - deltas.begin());
    const double above = static_cast<double>(deltas.end() - std::lower_bound(deltas.begin(), deltas.end(), 0.0));
    d.test = "paired bootstrap";
    d.p = d.value == 0 ? 1.0 : std::min(1.0, 2 * std::max(1.0, d.value > 0 ? below : above) / static_cast<double>(deltas.size()));
  }
  d.p_holm = d.p;
  return d;
}

}  // namespace imsm
