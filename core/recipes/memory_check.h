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
  MemoryEstimate estimate;
  DeviceSpec device;              // cpu, or cuda:N with its index (never the bare "cuda")
  double free_bytes = -1;         // free on that device now; -1 when not asked or unknown
  std::vector<std::string> fixes;  // when it does not fit: "gradient_checkpointing on: 21.3 GiB", ...
  bool fits() const { return free_bytes < 0 || estimate.peak_bytes() <= free_bytes; }
};

// The plan of a run: BadInput naming model_path when its config.json is missing or bad.
MemoryPlan memory_plan(const TrainConfig& c);

// The estimate, and the device's free memory when `ask_free` (on CUDA this
// creates the device's context in this process, ~0.5 GB of it).
MemoryCheck check_memory(const TrainConfig& c, bool ask_free = true);

// For people: the table of parts, the free memory and the verdict with the
// changes that fit ("" lines trimmed).
std::string memory_report(const MemoryCheck& m);

// One line for a refusal: what is needed, what is free, what to change.
std::string memory_refusal(const MemoryCheck& m);

}  // namespace imsm
