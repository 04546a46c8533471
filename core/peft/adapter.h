// The PEFT adapters as wrappers of a frozen linear layer: LoRA (and rsLoRA),
// DoRA, (IA)³. Each keeps its trainable tensors under their Hugging Face PEFT
// names (relative to the wrapped module: "lora_A.weight", "ia3_l", ...).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/linear.h"
#include "peft/peft_config.h"

namespace imsm {

class PeftAdapter : public LinearAdapter {
 public:
  // x: [B, T, in] -> [B, T, out]; rows outside `rows` get the base layer only.
  torch::Tensor forward(const torch::Tensor& x, const Linear& base, const AdapterRows& rows) override;
  // The adapted layer on every row of x.
  virtual torch::Tensor adapted(const torch::Tensor& x, const Linear& base) const = 0;
  // Adapters whose output is base(x) + delta(x) (LoRA, AdaLoRA) let a mixed
  // batch share one base matmul: the delta goes onto the adapted rows only.
  virtual bool additive() const { return false; }
  virtual torch::Tensor delta(const torch::Tensor& x) const { return torch::Tensor(); }  // [B, T, out]
  // Trainable tensors by PEFT name relative to the module ("lora_A.weight").
  virtual std::vector<std::pair<std::string, torch::Tensor*>> named_tensors() = 0;
  // Folds the adapter into `base` (weight, and bias where the adapter scales
  // it), computed in fp32 and stored in the base's dtype: afterwards
  // base.base_forward(x) is adapted(x, base) with dropout off. The base's
  // tensors are replaced, not written in place (they may alias a read-only file).
  virtual void merge_into(Linear& base) const = 0;
  void set_training(bool training) { training_ = training; }

 protected:
  bool training_ = false;
};

// LoRA: W x + b + s · B A dropout(x), s = alpha / r (rsLoRA: alpha / √r).
// DoRA (use_dora): m / ‖W + s·B A‖_row ⊙ (W x + s · B A dropout(x)) + b, the
// norm detached as in the DoRA paper and HF PEFT.
class LoraAdapter : public PeftAdapter {
 public:
  // A Kaiming-uniform (a = √5, i.e. U(±1/√in)) from `gen`, B zero; DoRA's m = ‖W‖_row.
  LoraAdapter(const Linear& base, const PeftConfig& config, at::Generator& gen);
  torch::Tensor adapted(const torch::Tensor& x, const Linear& base) const override;
  bool additive() const override { return !dora_; }
  torch::Tensor delta(const torch::Tensor& x) const override;  // s · B A dropout(x), fp32
  std::vector<std::pair<std::string, torch::Tensor*>> named_tensors() override;
  void merge_into(Linear& base) const override;  // W + s·B A; DoRA: each row rescaled to m
  torch::Tensor adapted_weight(const Linear& base) const;  // W + s·B A in fp32 [out, in] (DoRA normalises its rows)

  torch::Tensor lora_A;     // [r, in]
  torch::Tensor lora_B;     // [out, r]
  torch::Tensor magnitude;  // [out] (DoRA only)

 private:
  double scaling_, dropout_;
  bool dora_;
};

// (IA)³: the output scaled by l (attention modules), or for feed-forward
// modules the input: W (x ⊙ l) + b. l starts at 1.
class Ia3Adapter : public PeftAdapter {
 public:
  Ia3Adapter(const Linear& base, bool feedforward);
  torch::Tensor adapted(const torch::Tensor& x, const Linear& base) const override;
  std::vector<std::pair<std::string, torch::Tensor*>> named_tensors() override;
  void merge_into(Linear& base) const override;  // W's rows (and b) scaled by l, or its columns for feed-forward modules

  torch::Tensor ia3_l;  // [out, 1], or [1, in] for feed-forward modules (PEFT's shapes)

 private:
  bool feedforward_;
};

}  // namespace imsm
