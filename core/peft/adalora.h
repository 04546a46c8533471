// AdaLoRA (Zhang et al., ICLR 2023) as HF PEFT implements it: an SVD-shaped
// update P Λ Q (lora_B · diag(lora_E) · lora_A), the orthogonality
// regulariser ‖PᵀP − I‖_F + ‖QQᵀ − I‖_F, and budgeted rank allocation by
// smoothed sensitivity × uncertainty importance.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "peft/adapter.h"

namespace imsm {

// W x + b + alpha / (ranknum + 1e-5) · B ((A ⊙ E) dropout(x)); ranknum = r.
class AdaLoraAdapter : public PeftAdapter {
 public:
  // A, B ~ N(0, 0.02²), E = 0 (HF PEFT's initialisation); r ranks.
  AdaLoraAdapter(const Linear& base, const PeftConfig& config, int64_t r, at::Generator& gen);
  torch::Tensor adapted(const torch::Tensor& x, const Linear& base) const override;
  bool additive() const override { return true; }
  torch::Tensor delta(const torch::Tensor& x) const override;
  std::vector<std::pair<std::string, torch::Tensor*>> named_tensors() override;
  void merge_into(Linear& base) const override;  // W + alpha / (ranknum + 1e-5) · B (A ⊙ E)

  torch::Tensor lora_A;  // [r, in]   Q
  torch::Tensor lora_E;  // [r, 1]    Λ
  torch::Tensor lora_B;  // [out, r]  P

 private:
  double alpha_, dropout_, ranknum_;
};

// The budget schedule and the importance scores (HF PEFT's RankAllocator).
class RankAllocator {
 public:
  // adapters: module name -> adapter, all with init_r ranks.
  RankAllocator(std::map<std::string, AdaLoraAdapter*> adapters, const AdaLoraSettings& settings, int64_t init_r);

  // Budget (total kept ranks) at a step, and whether to re-mask then.
  std::pair<int64_t, bool> budget_schedule(int64_t step) const;
  // After the optimizer step at `global_step` (0-based), before gradients are
  // cleared: smooth the importance, re-mask E to the budget, fix the pattern
  // for the final steps. Returns the current rank pattern.
  const std::map<std::string, std::vector<bool>>& update_and_allocate(int64_t global_step);
  // Masks E to the budget by triplet importance; returns the pattern.
  const std::map<std::string, std::vector<bool>>& mask_to_budget(int64_t budget);

  // The mean of ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F over all A and B (differentiable).
  torch::Tensor orthogonal_regularization() const;

  // Smoothed importances, for checkpoints: "<module>/<A|B|E>/<ipt|unc>".
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state);
  const std::map<std::string, std::vector<bool>>& rank_pattern() const { return pattern_; }
  void set_rank_pattern(std::map<std::string, std::vector<bool>> pattern) { pattern_ = std::move(pattern); }

 private:
  void update_importance();
  void mask_using_pattern();
  torch::Tensor score(const std::string& key) const;  // exp_avg_ipt ⊙ exp_avg_unc

  std::map<std::string, AdaLoraAdapter*> adapters_;
  AdaLoraSettings settings_;
  int64_t init_budget_ = 0, target_budget_ = 0;
  std::map<std::string, torch::Tensor> exp_avg_ipt_, exp_avg_unc_;
  std::map<std::string, std::vector<bool>> pattern_;
};

}  // namespace imsm
