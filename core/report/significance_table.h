// The significance of a result table's differences (eval/significance.h),
// from the predictions the workspace keeps of every evaluation: per
// benchmark, each method against the base model, and each IMSM(X) against X;
// Holm's correction over the benchmarks of each such pair. Torch-free.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "eval/significance.h"
#include "report/results.h"
#include "store/workspace.h"
#include "util/table.h"

namespace imsm::report {

struct Test {
  size_t method = 0, against = 0;  // rows of the ResultTable: method - against
  size_t column = 0;
  Difference difference;
};

struct SignificanceTable {
  BootstrapOptions options;
  std::vector<Test> tests;
  const Test* find(size_t method, size_t against, size_t column) const;  // nullptr when not tested
};

// The rows (IMSM(X), X) of the table whose X is among its rows: a row trained
// with IMSM (any variant) and the row of the same model trained alike without
// it (the same training keys but for the variant and the gate's own: gate_rank,
// dropout_prob, gate_learning_rate) — "IMSM(LoRA)" and "IMSM-no-query(LoRA)"
// each with "LoRA", labelled runs as well.
std::vector<std::pair<size_t, size_t>> imsm_pairs(const ResultTable& table);

// What is tested: every metric that is a tally of items (eval/metrics.h); not
// perplexity. A pair whose predictions differ in number (other benchmark
// files) is left untested.
SignificanceTable test_significance(const store::Workspace& ws, const ResultTable& table, const BootstrapOptions& options = {});

// `imsm runs compare`: the first evaluation run among `ids` against each
// other one, per benchmark and tested metric they share: the difference, its
// 95% interval over the examples, the test, p and Holm's p over the pair's
// rows. No rows when fewer than two evaluation runs are given.
Table compare_evaluations(const store::Workspace& ws, const std::vector<int64_t>& ids, const BootstrapOptions& options = {});

// The method of the tests, in one paragraph for a report's readers.
std::string significance_method(const SignificanceTable& s, size_t benchmarks);

// "+0.0123 [-0.0040, +0.0290]", with " *" when significant(d): d's value,
// or `value` (the table's change of the recorded scores, the same number when
// the predictions are the ones the scores came from).
std::string difference_text(const Difference& d, int decimals = 4);
std::string difference_text(double value, const Difference& d, int decimals = 4);

}  // namespace imsm::report
