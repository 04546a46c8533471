// Optimizers with explicit, named state (saved in safetensors with the
// checkpoint, so a resumed run continues bit for bit): AdamW as torch.optim
// computes it, and Adafactor as transformers' (scale_parameter=False,
// relative_step=False, warmup_init=False, beta1=None: the paper's (IA)³ set-up).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "train/train_settings.h"

namespace imsm {

struct NamedParameter {
  std::string name;
  torch::Tensor tensor;   // requires_grad
  double lr_scale = 1.0;  // its learning rate over the schedule's (the IMSM gate's own rate): a parameter group
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(double lr) = 0;  // one update with learning rate lr (times each parameter's lr_scale)
  void zero_grad();
  // Every state tensor by "<parameter name>/<slot>", plus "step".
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() const = 0;
  // Restores state(); BadInput naming `where` when a slot is missing or misshapen.
  virtual void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& where) = 0;

 protected:
  explicit Optimizer(std::vector<NamedParameter> params) : params_(std::move(params)) {}
  std::vector<NamedParameter> params_;
  int64_t step_ = 0;
};

// "adamw" (betas 0.9/0.999, eps 1e-8) or "adafactor" (eps 1e-30, decay rate -0.8, clip threshold 1).
std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, std::vector<NamedParameter> params, double weight_decay);

}  // namespace imsm
