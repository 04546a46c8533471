// The training loop of IMSM (and of the PEFT method alone, variant none):
// shuffled right-padded batches, loss on answer + EOS, gradient accumulation,
// AdamW, cosine/linear schedule with warm-up, gradient-norm clipping, a report
// per optimizer step (util/run_protocol.h), cancel, and "diverged" on a
// NaN/inf loss.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "peft/peft_model.h"
#include "train/dataset.h"
#include "train/loss.h"
#include "train/optimizer.h"
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
  std::string lr_schedule = "cosine";  // cosine | linear | none
  std::string optimizer = "adamw";     // adamw | adafactor
  uint64_t seed = 42;
};

struct TrainOutcome {
  RunStatus status = RunStatus::Finished;  // finished | diverged
  std::vector<double> losses;  // per optimizer step
  int64_t steps = 0;
};

// The learning rate at optimizer step `step` (0-based) of `total`.
double scheduled_lr(const TrainOptions& options, int64_t step, int64_t total);

// Right-pads examples into a batch: ids [B, T], mask [B, T], labels [B, T] (-100 on padding), query_len [B].
struct TrainBatch {
  torch::Tensor ids, mask, labels, query_len;
  int64_t tokens = 0;
};
TrainBatch collate(const std::vector<const EncodedExample*>& examples, torch::Device device);

class Trainer {
 public:
  Trainer(LlamaModel& model, PeftAdapters& adapters, ImsmGate* gate, GateVariant variant,
          const std::vector<EncodedExample>& data, const TrainOptions& options);
  ~Trainer();

  // Trains from the current position to the end or to divergence; a record
  // per optimizer step through hooks.on_step (gate_mean < 0: the recipe
  // measures it). on_checkpoint runs after every `save_steps` optimizer steps
  // (0: never) and at the end of every epoch. hooks.should_abort() true:
  // throws Error(Cancelled) between steps, the position still resumable
  // (save_state), as the run protocol says.
  TrainOutcome run(const Hooks& hooks = {}, const std::function<void(const Trainer&)>& on_checkpoint = {},
                   int64_t save_steps = 0);

  // The trainer's part of a checkpoint: optimizer.safetensors (moments, step),
  // rng.safetensors (the dropout generator), trainer_state.json (position, losses).
  void save_state(const std::string& dir) const;
  void load_state(const std::string& dir);

  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_; }
  int64_t epoch() const { return epoch_; }

 private:
  LlamaModel& model_;
  PeftAdapters& adapters_;
  ImsmGate* gate_;
  GateVariant variant_;
  const std::vector<EncodedExample>& data_;
  TrainOptions options_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<torch::Tensor> params_;
  int64_t micro_per_epoch_ = 0, total_ = 0;
  int64_t step_ = 0, epoch_ = 0, micro_ = 0;  // the position: next micro-batch of epoch_
  std::vector<double> losses_;
};

}  // namespace imsm
