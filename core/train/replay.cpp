#include "train/replay.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <string>

#include "data/shuffle.h"
#include "util/error.h"

namespace imsm {

int64_t replay_rows(double ratio, int64_t batch_size) {
  const int64_t k = static_cast<int64_t>(std::llround(ratio * static_cast<double>(batch_size)));
  std::ostringstream r, least;
  r << ratio;
  least << std::setprecision(3) << 0.5 / static_cast<double>(batch_size);  // rounds to one row
  if (k < 1)
    throw_bad_input("replay_ratio", r.str() + " of a batch of " + std::to_string(batch_size) +
                                        " rows replays no row: raise replay_ratio to at least " + least.str() + " or the batch size");
  if (k >= batch_size)
    throw_bad_input("replay_ratio", r.str() + " of a batch of " + std::to_string(batch_size) + " rows leaves no row for the task: lower it");
  return k;
}

int64_t replay_batches_per_epoch(const ReplayPlan& plan, int64_t batch_size) {
  const auto task_rows = static_cast<size_t>(batch_size - plan.rows_per_batch);
  return static_cast<int64_t>((plan.task_examples + task_rows - 1) / task_rows);
}

std::vector<std::vector<size_t>> replay_batches(const ReplayPlan& plan, size_t replay_examples, int64_t batch_size, uint64_t seed,
                                                int64_t epoch) {
  if (replay_examples == 0) throw_bad_input("replay_data", "holds no examples");
  std::vector<size_t> task(plan.task_examples);
  std::iota(task.begin(), task.end(), size_t{0});
  data::shuffle(task, seed + static_cast<uint64_t>(epoch));
  const auto task_rows = static_cast<size_t>(batch_size - plan.rows_per_batch);
  const auto k = static_cast<size_t>(plan.rows_per_batch);
  // The general data's position at this epoch's start: every earlier epoch drew k rows per batch.
  const size_t batches = static_cast<size_t>(replay_batches_per_epoch(plan, batch_size));
  size_t drawn = static_cast<size_t>(epoch) * batches * k;
  std::vector<size_t> pass;  // the current shuffle of the general data
  uint64_t pass_index = drawn / replay_examples + 1;  // 0 before the first: forces a shuffle
  auto next_general = [&] {
    const uint64_t p = drawn / replay_examples;
    if (p != pass_index) {
      pass.resize(replay_examples);
      std::iota(pass.begin(), pass.end(), plan.task_examples);
      data::shuffle(pass, seed + p);
      pass_index = p;
    }
    return pass[drawn++ % replay_examples];
  };
  std::vector<std::vector<size_t>> out;
  for (size_t s = 0; s < task.size(); s += task_rows) {
    std::vector<size_t> batch(task.begin() + static_cast<std::ptrdiff_t>(s),
                              task.begin() + static_cast<std::ptrdiff_t>(std::min(task.size(), s + task_rows)));
    for (size_t r = 0; r < k; ++r) batch.push_back(next_general());
    out.push_back(std::move(batch));
  }
  return out;
}

}  // namespace imsm
