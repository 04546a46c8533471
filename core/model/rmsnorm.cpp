#include "model/rmsnorm.h"

namespace imsm {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  // Statistics in fp32 (as Hugging Face), or in fp64 for fp64 inputs (gradient checks).
  const torch::Tensor x32 = x.to(x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);  // [..., d]
  const torch::Tensor variance = x32.pow(2).mean(-1, /*keepdim=*/true);         // [..., 1]
  const torch::Tensor normed = (x32 * torch::rsqrt(variance + eps)).to(x.scalar_type());  // [..., d]
  return weight * normed;                                                        // [..., d]
}

}  // namespace imsm
