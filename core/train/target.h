// What the training loop (train/trainer.h) trains: its parameters, the loss of
// a batch, and what follows the loop's steps (dropout on and off, AdaLoRA's
// rank budget, state for a checkpoint). Two targets:
//   SiameseTarget — a PEFT adapter on a frozen base, mixed by the IMSM gate
//                   when there is one (the gate trains too): fine-tuning;
//   FullWeights   — every weight of the model (a tied weight once): pretraining.
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "imsm/gate.h"
#include "imsm/siamese.h"
#include "model/llama.h"
#include "peft/peft_model.h"
#include "train/batch.h"
#include "train/optimizer.h"

namespace imsm {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class TrainingTarget {
 public:
  virtual ~TrainingTarget() = default;
  virtual std::vector<NamedParameter> parameters() const = 0;  // what the optimizer steps
  virtual torch::Device device() const = 0;
  // The scalar loss of a micro-batch, with autograd to parameters().
  virtual torch::Tensor loss(const TrainBatch& batch) const = 0;
  virtual void set_training(bool) {}               // dropout on while training
  virtual void begin(int64_t /*total_steps*/) {}
  virtual void after_optimizer_step(int64_t /*step*/) {}  // 0-based step just taken, gradients still there
  virtual NamedTensors training_state() const { return {}; }  // beyond the parameters and the optimizer
  virtual void load_training_state(const NamedTensors&) {}
};

struct EwcAnchor;
class FrozenMemoryCache;

// The forgetting baselines' terms added to the loss (each off at 0).
struct Penalties {
  double kl_lambda = 0;            // + λ·KL(p_original ‖ p_tuned) on the answer tokens (train/kl_penalty.h)
  double ewc_lambda = 0;           // + λ·Σ F(θ − θ₀)² (train/ewc.h)
  const EwcAnchor* ewc = nullptr;  // F and θ₀; outlives the target
};

// Loss: causal LM on the labels (answer + EOS) of the siamese forward
// (imsm/siamese.h), plus the adapter's regularization (AdaLoRA). gate null:
// the PEFT method alone. The gate's parameters train at gate_lr_scale times
// the adapter's scheduled rate (the official optimizer's parameter groups:
// the schedule multiplies both). loss_chunk > 0: the head and the loss in
// chunks of that many positions, never the whole batch's logits
// (train/chunked_loss.h); 0: the plain path. Penalties: the KL and EWC
// baselines' terms.
class SiameseTarget : public TrainingTarget {
 public:
  SiameseTarget(const LlamaModel& model, PeftAdapters& adapters, ImsmGate* gate, double gate_lr_scale = 1.0, int64_t loss_chunk = 0)
      : model_(model), adapters_(adapters), gate_(gate), gate_lr_scale_(gate_lr_scale), loss_chunk_(loss_chunk) {}
  std::vector<NamedParameter> parameters() const override;
  torch::Device device() const override { return model_.device(); }
  torch::Tensor loss(const TrainBatch& batch) const override;
  // The answer tokens' mean NLL alone: no regulariser, no penalty (EWC's Fisher).
  torch::Tensor answer_nll(const TrainBatch& batch) const;
  void set_penalties(const Penalties& p) { penalties_ = p; }
  // The original stream's memory read from `cache` when it has it (train/memory_cache.h); null: always computed.
  void set_memory_cache(FrozenMemoryCache* cache) { cache_ = cache; }
  void set_training(bool training) override;
  void begin(int64_t total_steps) override { adapters_.begin_training(total_steps); }
  void after_optimizer_step(int64_t step) override { adapters_.after_optimizer_step(step); }
  NamedTensors training_state() const override { return adapters_.training_state(); }
  void load_training_state(const NamedTensors& state) override { adapters_.load_training_state(state); }

 private:
  const LlamaModel& model_;
  PeftAdapters& adapters_;
  ImsmGate* gate_;
  double gate_lr_scale_;
  int64_t loss_chunk_;
  Penalties penalties_;
  FrozenMemoryCache* cache_ = nullptr;
  torch::Tensor frozen_memory(const SiameseBatch& batch) const;  // h_M [B, T, d]: from the cache, else computed
  // The NLL of the batch and the forward it came from (its h_N, and h_M with a gate).
  torch::Tensor nll_of(const TrainBatch& batch, SiameseOutput& out) const;
};

// Loss: causal LM on every token of the batch. The weights require gradients
// while the target lives.
class FullWeights : public TrainingTarget {
 public:
  explicit FullWeights(LlamaModel& model);
  ~FullWeights() override;
  std::vector<NamedParameter> parameters() const override { return params_; }
  torch::Device device() const override { return model_.device(); }
  torch::Tensor loss(const TrainBatch& batch) const override;

 private:
  LlamaModel& model_;
  std::vector<NamedParameter> params_;
};

}  // namespace imsm
