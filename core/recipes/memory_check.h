// Recipe: will this training run fit? The memory estimate of the run as its
// keys configure it (train/memory_estimate.h: the model's config.json, the
// method, batch, lengths, dtype, checkpointing, loss chunks, evaluation during
// training) against the device's free memory now (MemAvailable on CPU,
// cudaMemGetInfo on CUDA), and, when it does not fit, the changes that would
// make it fit, each with the estimate it gives. `imsm train --dry-run` prints
// it, run_train refuses a run that does not fit (unless memory_check is
// false), and the run dialog shows it beside the free memory.
#pragma once
#include <string>
#include <vector>

#include "config/train_config.h"
#include "train/memory_estimate.h"

namespace imsm {

struct MemoryCheck {
  MemoryPlan plan;
  bool from_data = false;         // the batch's length is the data's longest row, not the keys' maximum
  MemoryEstimate estimate;
  DeviceSpec device;              // cpu, or cuda:N with its index (never the bare "cuda")
  double free_bytes = -1;         // free on that device now; -1 when not asked or unknown
  std::vector<std::string> fixes;  // when it does not fit: "gradient_checkpointing on: 21.3 GiB", ...
  bool fits() const { return free_bytes < 0 || estimate.peak_bytes() <= free_bytes; }
};

// The training rows as the run encodes them (train/dataset.h: the prompt and
// the answer truncated to max_input_length and max_output_length, then EOS):
// a batch is padded to its longest row, so the longest row sets the peak.
struct RowLengths {
  int64_t longest_row = 0;     // tokens of the longest row (0: unknown, the keys' maximum is used)
  int64_t longest_answer = 0;  // its answer + EOS tokens at most: the positions a row scores
};

// The lengths of the rows of data_path (and replay_data when replayed),
// encoded with the model's tokenizer; {} while the data or the tokenizer is
// not there yet (a project makes it later) or self-synthesized rehearsal
// will make the replayed rows. BadInput naming a bad data file.
RowLengths training_row_lengths(const TrainConfig& c);

// The plan of a run: BadInput naming model_path when its config.json is
// missing or bad. `rows`: the data's lengths, when known; else every batch is
// taken as max_input_length + max_output_length long.
MemoryPlan memory_plan(const TrainConfig& c, const RowLengths& rows = {});

// The estimate, and the device's free memory when `ask_free` (on CUDA this
// creates the device's context in this process, ~0.5 GB of it).
MemoryCheck check_memory(const TrainConfig& c, bool ask_free = true, const RowLengths& rows = {});

// For people: the table of parts, the free memory and the verdict with the
// changes that fit ("" lines trimmed).
std::string memory_report(const MemoryCheck& m);

// One line for a refusal: what is needed, what is free, what to change.
std::string memory_refusal(const MemoryCheck& m);

}  // namespace imsm
