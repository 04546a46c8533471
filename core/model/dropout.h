// Dropout for training, as torch::dropout (each element zeroed with
// probability p, the kept ones scaled by 1 / (1 − p), gradients through the
// same mask), with the CPU mask drawn in parallel: ATen draws a CPU mask one
// element at a time from the generator (MKL's parallel Bernoulli only on
// Intel CPUs), which cost ~7% of a LoRA step on SmolLM2 with all seven
// projections adapted (issue 34). Here one 64-bit seed is drawn from LibTorch's
// default CPU generator per call, and element i is kept when a counter-based
// hash (SplitMix64) of (seed, i) is at least p · 2⁶⁴: the mask depends on the
// generator's state only (a resumed run draws the same), never on the number
// of threads. On CUDA, torch::dropout.
#pragma once
#include <torch/torch.h>

namespace imsm {

// x: any shape; training false or p == 0: x itself.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace imsm
