// Intruder dimensions (Shuttleworth et al., "LoRA vs Full Fine-tuning: An
// Illusion of Equivalence", NeurIPS 2025): of a tuned weight's top singular
// vectors, those whose best |cosine| with every singular vector of the base
// weight stays below a threshold — new directions the tuning wrote in, which
// full fine-tuning does not make and which go with forgetting.
//
// The detection is PEFT's (peft.tuners.lora.intruders.reduce_intruder_dimension):
// left singular vectors (the output space) of W and of W + ΔW, the top k of
// the tuned one, threshold ε; its defaults k = 10, ε = 0.5.
#pragma once
#include <torch/torch.h>

namespace imsm {

struct IntruderOptions {
  int64_t top_k = 10;
  double threshold = 0.5;
};

struct IntruderCount {
  int64_t intruders = 0;       // of the top_k
  int64_t top_k = 0;           // top_k, or fewer when the matrix has fewer singular vectors
  double least_similarity = 1;  // the smallest best |cos| among the top_k
};

// base, tuned: [out, in], any float dtype (decomposed in fp32, fp64 kept).
IntruderCount count_intruders(const torch::Tensor& base, const torch::Tensor& tuned, const IntruderOptions& options);

}  // namespace imsm
