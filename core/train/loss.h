// The causal language-model loss, the one place it is computed (training,
// pretraining, perplexity): the cross-entropy of each position's logits
// against the next position's label, -100 labels not scored.
#pragma once
#include <torch/torch.h>

namespace imsm {

enum class LossReduction {
  Mean,     // mean over scored tokens, accumulated in at least fp32 (training)
  SumFp64,  // sum over scored tokens in fp64 (perplexity over a whole set)
};

// logits [B, T, V], labels [B, T] -> a scalar.
torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                             LossReduction reduction = LossReduction::Mean);

}  // namespace imsm
