// The tensors a Llama-family checkpoint must hold, by Hugging Face name, and
// the check of a checkpoint against its config.json (torch-free).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/hf_config.h"

namespace imsm {

struct ExpectedTensor {
  std::string name;  // "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;
};

// In load order: embed_tokens, per layer (norms, attention, mlp), norm, lm_head.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// "[576, 49152]": a shape as the messages about shapes write it.
std::string shape_text(const std::vector<int64_t>& shape);

// Throws BadInput naming the shard file and tensor for a missing, unexpected,
// wrongly shaped or unsupported-dtype tensor.
void check_layout(const ModelConfig& config, const CheckpointWeights& weights, const std::string& config_path);

}  // namespace imsm
