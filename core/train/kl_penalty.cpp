#include "train/kl_penalty.h"

#include <algorithm>

namespace imsm {

torch::Tensor kl_at_scored(const torch::Tensor& h_M, const torch::Tensor& h_N, const torch::Tensor& head_weight,
                           const torch::Tensor& labels) {
  const int64_t d = h_N.size(-1), T = h_N.size(1);
  const auto acc = h_N.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const torch::Tensor target = labels.narrow(1, 1, T - 1).reshape({-1});     // [B*(T-1)]
  const torch::Tensor scored = target.ne(-100).nonzero().squeeze(1);          // [N]
  auto rows = [&](const torch::Tensor& h) {                                  // [N, d]: the scored positions' states
    return h.narrow(1, 0, T - 1).reshape({-1, d}).index_select(0, scored).to(acc);
  };
  const torch::Tensor W = head_weight.to(acc);                                // [V, d]
  const torch::Tensor log_p_M = torch::log_softmax(torch::matmul(rows(h_M.detach()), W.t()), -1);  // [N, V]
  const torch::Tensor log_p_N = torch::log_softmax(torch::matmul(rows(h_N), W.t()), -1);           // [N, V]
  return (log_p_M.exp() * (log_p_M - log_p_N)).sum(-1);                                           // [N]
}

torch::Tensor kl_to_original(const torch::Tensor& h_M, const torch::Tensor& h_N, const torch::Tensor& head_weight,
                             const torch::Tensor& labels) {
  const torch::Tensor kl = kl_at_scored(h_M, h_N, head_weight, labels);  // [N]
  return kl.sum() / static_cast<double>(std::max<int64_t>(1, kl.size(0)));  // scalar
}

}  // namespace imsm
