// Per-item scores of a result table's cells, from the predictions the
// workspace keeps of every evaluation (each read and scored once): what the
// significance tests and the trade-off's intervals resample. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "eval/significance.h"
#include "report/results.h"
#include "store/workspace.h"

namespace imsm::report {

class ItemScores {
 public:
  explicit ItemScores(const store::Workspace& ws) : ws_(ws) {}
  // A cell's per-item scores, one row per seed, items in the benchmark's order (predictions are stored by index).
  SeedScores of(const Cell& cell, const Column& column);
  // One evaluation run's, as a single seed 0.
  SeedScores of_run(int64_t run_id, const Column& column) { return {{0}, {items(run_id, column)}}; }

 private:
  const std::vector<ItemScore>& items(int64_t run_id, const Column& column);
  const store::Workspace& ws_;
  std::map<std::pair<int64_t, std::string>, std::vector<ItemScore>> cache_;
};

}  // namespace imsm::report
