// Replay, the oldest forgetting baseline: every training batch carries a fixed
// number of rows drawn from general data besides the task's rows. The task
// examples are shuffled per epoch as without replay (each once an epoch) and
// cut into batches of batch_size − k rows; each batch gets k replayed rows,
// taken in turn from a shuffle of the general data that carries on across
// batches and epochs (torch-free).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace imsm {

// k, the replayed rows of a batch of `batch_size` at `ratio` (round(ratio·B)).
// BadInput on "replay_ratio" when that is no row, or leaves no task row.
int64_t replay_rows(double ratio, int64_t batch_size);

struct ReplayPlan {
  size_t task_examples = 0;   // data[0, task_examples): the task; data[task_examples, end): general data
  int64_t rows_per_batch = 0; // k; 0: no replay
  bool active() const { return rows_per_batch > 0; }
};

// The batches of epoch `epoch` (indices into the data the plan describes):
// task rows first, then the k replayed rows, in each batch. The task order is
// the shuffle seeded by seed + epoch; the general data's shuffle is seeded by
// `seed` and restarts with seed + 1, + 2, ... each time it is used up.
std::vector<std::vector<size_t>> replay_batches(const ReplayPlan& plan, size_t replay_examples, int64_t batch_size, uint64_t seed,
                                                int64_t epoch);

// The number of batches an epoch has with the plan: ceil(task / (batch_size − k)).
int64_t replay_batches_per_epoch(const ReplayPlan& plan, int64_t batch_size);

}  // namespace imsm
