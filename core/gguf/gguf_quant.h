// The file types `imsm export --format gguf --quant` writes, and the ggml
// type of each tensor in them, chosen as llama.cpp's llama-quantize chooses
// (src/llama-quant.cpp, llama_tensor_get_type): norms, biases and other 1-D
// tensors stay f32; q4_k_m puts q6_k on the output (or the tied embedding)
// and on attn_v and ffn_down of the layers use_more_bits picks, q4_k
// elsewhere; a row that does not divide into 256-wide blocks falls back as
// llama.cpp falls back (q4_k -> q5_0, q6_k -> q8_0, then f16). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

struct GgufQuant {
  std::string name;   // "f16", "q4_k_m", ...
  int file_type = 0;  // general.file_type: llama.cpp's llama_ftype
};

// "f32, f16, bf16, q8_0, q4_k_m": for help and messages.
std::string gguf_quant_names();

// BadInput naming `where` (the flag) with the list for a name not in it.
GgufQuant gguf_quant(const std::string& name, const std::string& where);

// "" when a GGUF LoRA can be written in the file type `name` (f32, f16,
// bf16), else why not, for a message about --quant.
std::string gguf_lora_quant_refusal(const std::string& name);

// The ggml type of tensor `gguf_name` ("blk.3.attn_v.weight") of `shape`
// (outermost first) in a file of `quant`, for a model of n_layers layers
// whose output shares the token embedding when tied.
int gguf_tensor_type(const GgufQuant& quant, const std::string& gguf_name, const std::vector<int64_t>& shape, int64_t n_layers,
                     bool tied);

}  // namespace imsm
