#include "peft/intruders.h"

#include "util/error.h"

namespace imsm {

IntruderCount count_intruders(const torch::Tensor& base, const torch::Tensor& tuned, const IntruderOptions& options) {
  if (base.sizes() != tuned.sizes() || base.dim() != 2) throw_internal("count_intruders: two [out, in] matrices of one shape");
  const auto dtype = base.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const torch::Tensor U_base = std::get<0>(torch::linalg_svd(base.to(torch::kCPU, dtype), false));    // [out, r]
  const torch::Tensor U_tuned = std::get<0>(torch::linalg_svd(tuned.to(torch::kCPU, dtype), false));  // [out, r], by singular value
  const torch::Tensor best = U_tuned.t().matmul(U_base).abs().amax(1);                                 // [r]: each tuned vector's best |cos|
  IntruderCount c;
  c.top_k = std::min<int64_t>(options.top_k, best.size(0));
  const torch::Tensor top = best.narrow(0, 0, c.top_k);  // [k]
  c.intruders = (top < options.threshold).sum().item<int64_t>();
  c.least_similarity = c.top_k > 0 ? top.min().item<double>() : 1.0;
  return c;
}

}  // namespace imsm
