#include "report/item_scores.h"

namespace imsm::report {

SeedScores ItemScores::of(const Cell& cell, const Column& column) {
  SeedScores s;
  for (size_t k = 0; k < cell.eval_run_ids.size(); ++k) {
    s.seeds.push_back(cell.seeds[k]);
    s.items.push_back(items(cell.eval_run_ids[k], column));
  }
  return s;
}

const std::vector<ItemScore>& ItemScores::items(int64_t run_id, const Column& column) {
  const auto key = std::make_pair(run_id, column.benchmark);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  std::vector<ItemScore> out;
  for (const auto& p : ws_.predictions(run_id, column.benchmark, false)) out.push_back(score_item(column.task, {p.answer, p.golds}));
  return cache_.emplace(key, std::move(out)).first->second;
}

}  // namespace imsm::report
