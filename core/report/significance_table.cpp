#include "report/significance_table.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "io/json_file.h"
#include "report/item_scores.h"
#include "util/error.h"
#include "util/table.h"

namespace imsm::report {

namespace {

std::string p_text(double p) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", p);
  return text;
}

}  // namespace

const Test* SignificanceTable::find(size_t method, size_t against, size_t column) const {
  for (const Test& t : tests)
    if (t.method == method && t.against == against && t.column == column) return &t;
  return nullptr;
}

std::vector<std::pair<size_t, size_t>> imsm_pairs(const ResultTable& t) {
  // A configuration without the keys that only IMSM reads, and without its variant.
  auto plain = [](nlohmann::json config) {
    for (const char* key : {"variant", "gate_rank", "dropout_prob", "gate_learning_rate"}) config.erase(key);
    return config;
  };
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t m = 0; m < t.rows.size(); ++m) {
    const Row& row = t.rows[m];
    if (!row.config.is_object() || json::text_or(row.config, "variant", "query") == "none") continue;
    for (size_t x = 0; x < t.rows.size(); ++x) {
      const Row& other = t.rows[x];
      if (other.model != row.model || !other.config.is_object() || json::text_or(other.config, "variant", "query") != "none") continue;
      if (plain(other.config) == plain(row.config)) out.emplace_back(m, x);
    }
  }
  return out;
}

SignificanceTable test_significance(const store::Workspace& ws, const ResultTable& t, const BootstrapOptions& options) {
  SignificanceTable s;
  s.options = options;
  ItemScores cache(ws);
  // The pairs: every row against its model's Base, every IMSM(X) against X.
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t m = 0; m < t.rows.size(); ++m)
    if (const auto base = t.base_of(m)) pairs.emplace_back(m, *base);
  for (const auto& pair : imsm_pairs(t)) pairs.push_back(pair);
  for (const auto& [m, against] : pairs) {
    const size_t first = s.tests.size();
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell *a = t.cell(m, c), *b = t.cell(against, c);
      if (!a || !b || !is_item_metric(t.columns[c].metric)) continue;
      try {
        s.tests.push_back({m, against, c, compare_scores(t.columns[c].metric, cache.of(*a, t.columns[c]), cache.of(*b, t.columns[c]), options)});
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::BadInput) throw;  // predictions of other lengths: not comparable, not tested
      }
    }
    std::vector<Difference*> family;  // Holm over this pair's benchmarks
    for (size_t i = first; i < s.tests.size(); ++i) family.push_back(&s.tests[i].difference);
    adjust_holm(family);
  }
  return s;
}

Table compare_evaluations(const store::Workspace& ws, const std::vector<int64_t>& ids, const BootstrapOptions& options) {
  Table out;
  out.header = {"comparison", "benchmark", "metric", "difference [95% interval]", "test", "p", "Holm p"};
  std::vector<int64_t> evals;
  for (int64_t id : ids)
    if (ws.run(id).kind == "eval") evals.push_back(id);
  if (evals.size() < 2) return out;
  ItemScores cache(ws);
  const std::vector<store::Evaluation> reference = ws.evaluations(evals.front());
  for (size_t k = 1; k < evals.size(); ++k) {
    const std::vector<store::Evaluation> scores = ws.evaluations(evals[k]);
    std::vector<std::pair<const store::Evaluation*, Difference>> rows;  // into `scores`
    for (const store::Evaluation& e : scores) {
      const auto ref = std::find_if(reference.begin(), reference.end(),
                                    [&](const store::Evaluation& r) { return r.benchmark == e.benchmark && r.metric == e.metric; });
      if (ref == reference.end() || !is_item_metric(e.metric)) continue;
      const Column column{e.benchmark, e.metric, e.task};
      try {
        rows.emplace_back(&e, compare_scores(e.metric, cache.of_run(evals[k], column), cache.of_run(evals.front(), column), options));
      } catch (const Error& error) {
        if (error.kind() != ErrorKind::BadInput) throw;  // not comparable (other item counts): no row
      }
    }
    std::vector<Difference*> family;  // Holm over the pair's rows
    for (auto& row : rows) family.push_back(&row.second);
    adjust_holm(family);
    for (const auto& [e, d] : rows)
      out.rows.push_back({"run " + std::to_string(evals[k]) + " - run " + std::to_string(evals.front()), e->benchmark, e->metric,
                          difference_text(d), d.test, p_text(d.p), p_text(d.p_holm)});
  }
  return out;
}

std::string significance_method(const SignificanceTable& s, size_t benchmarks) {
  return "Intervals: " + format_fixed(100 * s.options.level, 0) + "% paired bootstrap over the examples and the training seeds (" +
         std::to_string(s.options.resamples) + " resamples, seed " + std::to_string(s.options.seed) +
         "; the same examples for both models, each model's seeds drawn with replacement). p-values, as Dror et al. 2018 recommend per "
         "metric: McNemar's exact test where an example is right or wrong (EM, Contain, Accuracy; with several seeds its randomization "
         "form, random signs on each example's difference of seed means), the paired bootstrap otherwise (F1, MCC). Holm's correction over the " +
         std::to_string(benchmarks) + " benchmark(s) of each comparison. * marks a difference significant on the examples (Holm-adjusted "
         "p < 0.05) whose interval also excludes 0 (it survives another draw of the training seeds).";
}

std::string difference_text(const Difference& d, int decimals) { return difference_text(d.value, d, decimals); }

std::string difference_text(double value, const Difference& d, int decimals) {
  return format_change(value, decimals) + " [" + format_change(d.low, decimals) + ", " + format_change(d.high, decimals) + "]" +
         (significant(d) ? " *" : "");
}

}  // namespace imsm::report
