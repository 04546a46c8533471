// A LoRA adapter (PEFT's adapter_model.safetensors) as a GGUF LoRA that
// llama.cpp applies to its base model at run time (llama-cli --lora,
// llama_adapter_lora_init), written as convert_lora_to_gguf.py writes one:
// general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per
// adapted weight "<gguf name>.lora_a" [r, in] and ".lora_b" [out, r], B's
// rows in llama.cpp's Q/K order (gguf_export.h). llama.cpp scales B·A by
// alpha / r, r read from each tensor's shape. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "gguf/gguf_quant.h"
#include "io/hf_config.h"
#include "util/run_protocol.h"

namespace imsm {

struct GgufLoraResult {
  int64_t pairs = 0;                     // adapted weights
  int64_t bytes = 0;
  std::map<std::string, int64_t> types;  // ggml type -> tensors of it
};

// `alpha` is what llama.cpp divides by r: the adapter's lora_alpha (times
// sqrt(r) for rsLoRA, whose scaling is alpha / sqrt(r)). Quantization: f32,
// f16 or bf16 (BadInput naming --quant otherwise). BadInput naming the file
// for a tensor that is not a lora_A/lora_B of a weight the model has, an A
// without its B, or shapes that do not fit the weight.
GgufLoraResult write_gguf_lora(const std::string& path, const std::string& adapter_safetensors, const ModelConfig& config,
                               const std::string& config_path, double alpha, const GgufQuant& quant, const Hooks& hooks);

}  // namespace imsm
