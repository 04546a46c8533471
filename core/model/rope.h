// Rotary position embeddings, Hugging Face rotate-half convention, with the
// linear, dynamic-NTK and llama3 frequency scalings.
#pragma once
#include <torch/torch.h>

#include "io/hf_config.h"

namespace imsm {

class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(const ModelConfig& config);

  // positions: [B, T] int64 -> {cos, sin}, each [B, T, head_dim] in `dtype` on positions' device.
  std::pair<torch::Tensor, torch::Tensor> cos_sin(const torch::Tensor& positions, torch::ScalarType dtype) const;

  const torch::Tensor& inv_freq() const { return inv_freq_; }  // [head_dim / 2] fp32, CPU

 private:
  torch::Tensor frequencies(int64_t seq_len) const;  // [head_dim / 2] fp32
  int64_t head_dim_;
  double theta_;
  RopeScaling scaling_;
  torch::Tensor inv_freq_;
};

// x: [B, H, T, hd], cos/sin: [B, T, hd] -> x rotated, [B, H, T, hd].
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace imsm
