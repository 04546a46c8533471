// Opening, creating and saving Llama-family checkpoints (Hugging Face layout).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

#include "model/llama.h"

namespace imsm {

struct LoadOptions {
  torch::Device device = torch::kCPU;
  // Compute dtype; kUndefined: auto_precision (model/device_spec.h).
  torch::ScalarType dtype = torch::ScalarType::Undefined;
};

// Reads DIR/config.json and DIR/model.safetensors (or its sharded index),
// checks every tensor against the config. BadInput errors name the file.
std::unique_ptr<LlamaModel> load_llama(const std::string& dir, const LoadOptions& options = {});

// A model with freshly initialised weights (normal(0, 0.02), norms 1), as
// Hugging Face's _init_weights with initializer_range 0.02. Deterministic for a seed.
std::unique_ptr<LlamaModel> init_llama(const ModelConfig& config, uint64_t seed, const LoadOptions& options = {});

// Writes DIR/config.json and DIR/model.safetensors (weights in `torch_dtype`
// of the config, or in `dtype` when given, which config.json then names). Creates DIR.
void save_llama(const LlamaModel& model, const std::string& dir, torch::ScalarType dtype = torch::ScalarType::Undefined);

}  // namespace imsm
