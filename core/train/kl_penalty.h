// The KL baseline's penalty: how far the tuned model's next-token distribution
// has moved from the original model's, on the answer tokens the loss scores,
//   KL(p_original ‖ p_tuned) = Σ_v p_M(v) (log p_M(v) − log p_N(v)),
// p_M from the original memory h_M, p_N from the memory the head reads (h_N:
// the IMSM mix, or h_M' for the PEFT method alone), averaged over the scored
// positions. The original side carries no gradient.
#pragma once
#include <torch/torch.h>

namespace imsm {

// h_M, h_N [B, T, d] (last hidden states), head_weight [V, d], labels [B, T]
// (-100: not scored; position t predicts labels[t + 1]) -> scalar (fp32, or
// fp64 for fp64 inputs), 0 with no scored position.
torch::Tensor kl_to_original(const torch::Tensor& h_M, const torch::Tensor& h_N, const torch::Tensor& head_weight,
                             const torch::Tensor& labels);
// The KL at each scored position, [N] in row-major order of the scored
// targets (row b's come before row b + 1's): kl_to_original is their mean.
torch::Tensor kl_at_scored(const torch::Tensor& h_M, const torch::Tensor& h_N, const torch::Tensor& head_weight,
                           const torch::Tensor& labels);

}  // namespace imsm
