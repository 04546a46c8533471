// One adapter decoded along several fixed mixes in one pass (WiSE-FT's
// interpolation of the original and the tuned model, IMSM with its gate
// frozen to a constant): h_N = α·h_M + (1 − α)·h_M' for each α of a list.
// The batch holds every prompt once per α, row a·P + p for α_a and prompt p.
// The prompt runs once — P tuned and P original rows over the shared base
// weights — and its KV cache is then repeated for every α; from the first
// generated token on each row decodes alone (its tokens depend on its α), the
// tuned and original streams of all rows as one batch.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "model/generate.h"
#include "model/llama.h"

namespace imsm {

class MixSweepStep : public DecodeStep {
 public:
  // alphas: each in [0, 1]; prompts: P, the distinct prompts of a batch of A·P rows.
  MixSweepStep(const LlamaModel& model, std::vector<double> alphas, int64_t prompts);
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override;
  torch::Tensor last_gate_mean() const override { return alpha_rows_.view({-1}).to(torch::kFloat32); }  // [A·P]: each row's α
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  bool uses_cache() const override { return true; }

 private:
  const LlamaModel& model_;
  std::vector<double> alphas_;
  int64_t P_;
  KVCache cache_;
  torch::Tensor alpha_rows_;  // [A·P, 1, 1] each row's α, in the gate's dtype
};

}  // namespace imsm
