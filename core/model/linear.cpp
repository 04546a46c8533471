#include "model/linear.h"

namespace imsm {

torch::Tensor Linear::base_forward(const torch::Tensor& x) const {
  return torch::nn::functional::linear(x, weight, bias);  // [B, T, out]
}

torch::Tensor Linear::forward(const torch::Tensor& x, const AdapterRows& rows) const {
  if (adapter && rows.enabled) return adapter->forward(x, *this, rows);
  return base_forward(x);
}

}  // namespace imsm
