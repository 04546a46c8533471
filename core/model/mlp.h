// The SwiGLU feed-forward block: down_proj(silu(gate_proj(x)) * up_proj(x)).
#pragma once
#include <torch/torch.h>

#include "model/linear.h"

namespace imsm {

struct Mlp {
  Linear gate_proj, up_proj, down_proj;
  // x: [B, T, d] -> [B, T, d]
  torch::Tensor forward(const torch::Tensor& x, const AdapterRows& rows) const;
};

}  // namespace imsm
