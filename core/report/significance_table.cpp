#include "report/significance_table.h"

#include <algorithm>
#include <map>

#include "util/error.h"
#include "util/table.h"

namespace imsm::report {

namespace {

bool tested_metric(const std::string& metric) {
  for (const char* m : {"EM", "Contain", "F1_overlap", "Accuracy", "F1_score", "MCC"})
    if (metric == m) return true;
  return false;
}

// A cell's per-item scores, one row per seed, items in the benchmark's order (predictions are stored by index).
class ItemCache {
 public:
  explicit ItemCache(const store::Workspace& ws) : ws_(ws) {}
  SeedScores of(const Cell& cell, const Column& column) {
    SeedScores s;
    for (size_t k = 0; k < cell.eval_run_ids.size(); ++k) {
      s.seeds.push_back(cell.seeds[k]);
      s.items.push_back(items(cell.eval_run_ids[k], column));
    }
    return s;
  }

 private:
  const std::vector<ItemScore>& items(int64_t run_id, const Column& column) {
    const auto key = std::make_pair(run_id, column.benchmark);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::vector<ItemScore> out;
    for (const auto& p : ws_.predictions(run_id, column.benchmark, false)) out.push_back(score_item(column.task, {p.answer, p.golds}));
    return cache_.emplace(key, std::move(out)).first->second;
  }
  const store::Workspace& ws_;
  std::map<std::pair<int64_t, std::string>, std::vector<ItemScore>> cache_;
};

}  // namespace

const Test* SignificanceTable::find(size_t method, size_t against, size_t column) const {
  for (const Test& t : tests)
    if (t.method == method && t.against == against && t.column == column) return &t;
  return nullptr;
}

const std::string* SignificanceTable::peft_of(const std::vector<std::string>& methods, const std::string& method) {
  const size_t open = method.find('('), close = method.rfind(')');
  if (method.rfind("IMSM", 0) != 0 || open == std::string::npos || close == std::string::npos || close < open) return nullptr;
  const std::string peft = method.substr(open + 1, close - open - 1);
  const auto it = std::find(methods.begin(), methods.end(), peft);
  return it == methods.end() ? nullptr : &*it;
}

SignificanceTable test_significance(const store::Workspace& ws, const ResultTable& t, const BootstrapOptions& options) {
  SignificanceTable s;
  s.options = options;
  ItemCache cache(ws);
  // The pairs: every method against Base (row 0), every IMSM(X) against X.
  std::vector<std::pair<size_t, size_t>> pairs;
  const bool has_base = !t.methods.empty() && t.methods[0] == "Base";
  for (size_t m = has_base ? 1 : 0; m < t.methods.size(); ++m) {
    if (has_base) pairs.emplace_back(m, 0);
    if (const std::string* peft = SignificanceTable::peft_of(t.methods, t.methods[m]))
      pairs.emplace_back(m, static_cast<size_t>(std::find(t.methods.begin(), t.methods.end(), *peft) - t.methods.begin()));
  }
  for (const auto& [m, against] : pairs) {
    const size_t first = s.tests.size();
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell *a = t.cell(m, c), *b = t.cell(against, c);
      if (!a || !b || !tested_metric(t.columns[c].metric)) continue;
      try {
        s.tests.push_back({m, against, c, compare_scores(t.columns[c].metric, cache.of(*a, t.columns[c]), cache.of(*b, t.columns[c]), options)});
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::BadInput) throw;  // predictions of other lengths: not comparable, not tested
      }
    }
    std::vector<double> p;  // Holm over this pair's benchmarks
    for (size_t i = first; i < s.tests.size(); ++i) p.push_back(s.tests[i].difference.p);
    const std::vector<double> adjusted = holm(p);
    for (size_t i = first; i < s.tests.size(); ++i) s.tests[i].difference.p_holm = adjusted[i - first];
  }
  return s;
}

std::string significance_method(const SignificanceTable& s, size_t benchmarks) {
  return "Intervals: " + format_fixed(100 * s.options.level, 0) + "% paired bootstrap over the examples and the training seeds (" +
         std::to_string(s.options.resamples) + " resamples, seed " + std::to_string(s.options.seed) +
         "; the same examples for both models, each model's seeds drawn with replacement). p-values, as Dror et al. 2018 recommend per "
         "metric: McNemar's exact test where an example is right or wrong (EM, Contain, Accuracy; with several seeds, the sign test "
         "on each example's mean over the seeds), the paired bootstrap otherwise (F1, MCC). Holm's correction over the " +
         std::to_string(benchmarks) + " benchmark(s) of each comparison. * marks a difference significant on the examples (Holm-adjusted "
         "p < 0.05) whose interval also excludes 0 (it survives another draw of the training seeds).";
}

std::string difference_text(const Difference& d, int decimals) { return difference_text(d.value, d, decimals); }

std::string difference_text(double value, const Difference& d, int decimals) {
  return format_change(value, decimals) + " [" + format_change(d.low, decimals) + ", " + format_change(d.high, decimals) + "]" +
         (significant(d) ? " *" : "");
}

}  // namespace imsm::report
