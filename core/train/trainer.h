// The one training loop, for fine-tuning (IMSM, or the PEFT method alone) and
// for pretraining alike (what it trains: train/target.h): shuffled
// right-padded batches, gradient accumulation, AdamW or Adafactor,
// cosine/linear schedule with warm-up, gradient-norm clipping, a record per
// optimizer step (util/run_protocol.h), cancel, checkpoints and resume, and
// "diverged" on a NaN/inf loss.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "dist/process_group.h"
#include "train/batch.h"
#include "train/data_parallel.h"
#include "train/dataset.h"
#include "train/loss.h"
#include "train/optimizer.h"
#include "train/replay.h"
#include "train/target.h"
#include "util/run_protocol.h"

namespace imsm {

struct TrainOptions {
  int64_t num_epochs = 3;
  int64_t batch_size = 4;
  int64_t accumulation_steps = 1;
  double learning_rate = 3e-4;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;   // <= 0: no clipping
  double warmup_ratio = 0.0;
  LrSchedule lr_schedule = LrSchedule::Cosine;
  OptimizerKind optimizer = OptimizerKind::AdamW;
  uint64_t seed = 42;                  // dropout; epoch e shuffles with seed + e
  bool group_by_length = false;        // batches of similar length (train/batch.h)
  ReplayPlan replay;                   // active: the data's tail is general data, k rows of every batch (train/replay.h)
};

struct TrainOutcome {
  RunStatus status = RunStatus::Finished;  // finished | diverged
  std::vector<double> losses;  // per optimizer step
  int64_t steps = 0;
  bool stopped_early = false;  // finished before total_steps: the evaluation said stop
};

class Trainer;

// Evaluation during training: `evaluate` runs with the target in eval mode
// (dropout off) after the last step of each epoch and every `every_steps`
// optimizer steps (0: epoch ends only), before that point's checkpoint;
// returning true stops training there (early stopping). With a process group
// every rank calls it at the same step.
struct EvalSchedule {
  int64_t every_steps = 0;
  std::function<bool(const Trainer&)> evaluate;
};

// The learning rate at optimizer step `step` (0-based) of `total`.
double scheduled_lr(const TrainOptions& options, int64_t step, int64_t total);

class Trainer {
 public:
  // `target`, `data` and `group` outlive the trainer. With a process group
  // the ranks train data-parallel (train/data_parallel.h): the same result
  // as one process with the same global batch, up to float rounding.
  Trainer(TrainingTarget& target, const std::vector<EncodedExample>& data, const TrainOptions& options,
          dist::ProcessGroup* group = nullptr);
  ~Trainer();

  // Trains from the current position to the end or to divergence; a record
  // per optimizer step through hooks.on_step (gate_mean < 0: the recipe
  // measures it). on_checkpoint runs after every `save_steps` optimizer steps
  // (0: never) and at the end of every epoch. hooks.should_abort() true:
  // throws Error(Cancelled) between steps, the position still resumable
  // (save_state), as the run protocol says.
  TrainOutcome run(const Hooks& hooks = {}, const std::function<void(const Trainer&)>& on_checkpoint = {},
                   int64_t save_steps = 0, const EvalSchedule& eval = {});

  // The trainer's part of a checkpoint: optimizer.safetensors (moments, step),
  // rng.safetensors (the dropout generators; with a group every rank's, each
  // rank resuming its own), trainer_state.json (position,
  // losses, the number of processes: resume needs the same),
  // peft_state.safetensors (the target's training_state(), when it has one).
  void save_state(const std::string& dir) const;
  void load_state(const std::string& dir);

  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_; }
  int64_t epoch() const { return epoch_; }

 private:
  TrainingTarget& target_;
  const std::vector<EncodedExample>& data_;
  TrainOptions options_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<torch::Tensor> params_;
  int64_t micro_per_epoch_ = 0, total_ = 0;
  int64_t step_ = 0, epoch_ = 0, micro_ = 0;  // the position: next micro-batch of epoch_
  std::vector<double> losses_;
  dist::ProcessGroup* group_;
  bool stop_voted_ = false;  // with a group: some rank was asked to stop during the last step
  // With a group: every rank's generators, gathered before each checkpoint (a collective: all ranks, same step).
  // This epoch's micro-batches (row indices), in the seeded order (with replay: task and general rows mixed).
  std::vector<std::vector<size_t>> epoch_order() const;
  // One optimizer step's gradients over its micro-batches from micro_ on (this rank's shards, all-reduced over
  // the group): the step's loss and tokens; micro_ moves past them.
  StepSums compute_gradients(const std::vector<std::vector<size_t>>& batches, const Hooks& hooks);
  // The gradients' global norm, clipped to max_grad_norm when it is set.
  double gradient_norm();
  // The optimizer step at rate `lr` of a step whose loss was `loss`: the position advances; returns the gradient norm.
  double apply_step(double lr, double loss);
  void gather_rng_states();
  std::vector<std::pair<std::string, torch::Tensor>> ranks_rng_;
};

}  // namespace imsm
