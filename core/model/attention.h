// Grouped-query self-attention with rotary embeddings and an optional KV cache.
#pragma once
#include <torch/torch.h>

#include "model/kv_cache.h"
#include "model/linear.h"

namespace imsm {

struct Attention {
  Linear q_proj, k_proj, v_proj, o_proj;
  torch::Tensor q_norm, k_norm;  // [hd] each (Qwen3: RMSNorm over each head before RoPE); undefined: none
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0;
  double rms_norm_eps = 1e-6;    // of q_norm / k_norm

  // x: [B, T, d]; cos/sin: [B, T, hd]; mask: additive [B, 1, T, S] or undefined
  // (no masking); cache: null or the model's cache at `layer`. -> [B, T, d]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, KVCache* cache, int64_t layer, const AdapterRows& rows) const;
};

}  // namespace imsm
