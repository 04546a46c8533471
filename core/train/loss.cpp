#include "train/loss.h"

namespace imsm {

torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels, LossReduction reduction) {
  namespace F = torch::nn::functional;
  const int64_t V = logits.size(-1);
  const torch::Tensor predicted = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, V});  // [B*(T-1), V]
  const torch::Tensor target = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});        // [B*(T-1)]
  if (reduction == LossReduction::SumFp64)
    return F::cross_entropy(predicted.to(torch::kFloat64), target, F::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
  const auto acc = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;  // at least fp32
  return F::cross_entropy(predicted.to(acc), target, F::CrossEntropyFuncOptions().ignore_index(-100));
}

}  // namespace imsm
