// The causal LM loss straight from the last hidden states, the LM head applied
// chunk by chunk over the scored positions only (issue 15, item 2): the
// [B, T, vocab] logits never exist — not in the forward, not kept for the
// backward, which recomputes each chunk's logits. With Llama 3's 128,256-token
// vocabulary a batch of 4 × 1,024 tokens holds 2.1 GB of fp32 logits and as
// much again for their gradient on the plain path; here, one chunk.
//
// Same value and gradients (to the hidden states and, when it trains, the
// head) as causal_lm_loss(hidden · headᵀ, labels) with the mean reduction, up
// to the order of the sums.
#pragma once
#include <torch/torch.h>

namespace imsm {

// hidden [B, T, d] (autograd), head_weight [V, d], labels [B, T] (-100: not
// scored; position t's logits predict label t + 1) -> scalar mean over scored
// tokens, accumulated in fp32 (fp64 for fp64 inputs). chunk: positions per
// chunk of logits (> 0).
torch::Tensor chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& head_weight, const torch::Tensor& labels,
                                     int64_t chunk = 1024);

}  // namespace imsm
