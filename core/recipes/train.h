// Recipe: fine-tune a model with a PEFT method and IMSM on top (or the PEFT
// method alone, variant none), with checkpoints and resume.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "recipes/train_config.h"

namespace imsm {

struct TrainProgress {
  int64_t step = 0, total_steps = 0, epoch = 0;
  double loss = 0, learning_rate = 0, grad_norm = 0, tokens_per_second = 0, eta_seconds = 0;
  double gate_mean = -1;  // IMSM: the mean gate on the probe examples, measured about 50 times a run; < 0 at other steps
};

struct TrainSummary {
  std::string status;            // finished | diverged | cancelled
  int64_t steps = 0, total_steps = 0;
  std::vector<double> losses;    // per optimizer step, from the run's start (resumed runs included)
  std::string adapter_dir;       // OUTPUT/adapter: the (IMSM) adapter
  std::string last_checkpoint;   // OUTPUT/checkpoint-STEP, "" when none was written
  int64_t trainable_parameters = 0;
  int64_t examples = 0;
  double seconds = 0;
};

// Writes OUTPUT/checkpoint-STEP/ (adapter, gate, optimizer, RNG, position) at
// epoch ends, every save_steps steps and on cancel; OUTPUT/adapter/ and
// OUTPUT/train_config.json when finished.
// on_checkpoint(dir, step) follows each checkpoint written.
TrainSummary run_train(const TrainConfig& config, const std::function<void(const TrainProgress&)>& on_progress = {},
                       const std::function<bool()>& should_abort = {},
                       const std::function<void(const std::string&, int64_t)>& on_checkpoint = {});

}  // namespace imsm
