#include "model/mlp.h"

namespace imsm {

torch::Tensor Mlp::forward(const torch::Tensor& x, const AdapterRows& rows) const {
  const torch::Tensor gate = torch::silu(gate_proj.forward(x, rows));  // [B, T, ff]
  const torch::Tensor up = up_proj.forward(x, rows);                   // [B, T, ff]
  return down_proj.forward(gate * up, rows);                           // [B, T, d]
}

}  // namespace imsm
