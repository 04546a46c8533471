// RMSNorm as Hugging Face LlamaRMSNorm: statistics in fp32 (fp64 for fp64
// inputs), scaled by weight.
#pragma once
#include <torch/torch.h>

namespace imsm {

// x: [..., d], weight: [d] -> [..., d] in x's dtype.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace imsm
