// Recipe: fine-tune a model with a PEFT method and IMSM on top (or the PEFT
// method alone, variant none), with checkpoints and resume.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "recipes/train_config.h"
#include "util/run_protocol.h"

namespace imsm {

struct TrainSummary {
  RunStatus status = RunStatus::Finished;  // finished | diverged (cancel throws, see below)
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
// OUTPUT/train_config.json when finished. Hooks: a StepRecord per optimizer
// step (with the gate probe's mean where measured), a Checkpoint event after
// each checkpoint written; cancel (the run protocol): a checkpoint, then
// Error(Cancelled) "training stopped at step N of M".
TrainSummary run_train(const TrainConfig& config, const Hooks& hooks = {});

}  // namespace imsm
