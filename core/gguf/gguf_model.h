// What a GGUF file holds as a Hugging Face model: config.json's settings from
// the GGUF metadata, and each tensor under its Hugging Face name, with
// llama.cpp's row permutation of Q and K undone. Torch-free.
//
// Architectures (general.architecture): llama (Llama, Mistral, SmolLM; Llama
// 3's rope_freqs.weight back to rope_scaling, gguf_rope.h), qwen2 and qwen3. llama.cpp's convert_hf_to_gguf.py permutes the rows of q_proj and
// k_proj of the llama architecture within each head, so that its RoPE can
// rotate adjacent pairs: per head, the rows [0, d/2) and [d/2, d) are
// interleaved. The import puts them back in Hugging Face's half-split order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "io/hf_config.h"

namespace imsm {

struct GgufWeight {
  std::string name;                 // Hugging Face's: "model.layers.0.self_attn.q_proj.weight"
  const GgufTensorInfo* source = nullptr;
  std::vector<int64_t> shape;       // Hugging Face's, equal to the GGUF tensor's
  int64_t unpermute_heads = 0;      // > 0: undo llama.cpp's Q/K permutation over this many heads
};

struct GgufModel {
  std::string gguf_architecture;    // "llama", "qwen2", "qwen3"
  std::string name;                 // general.name, "" when absent
  ModelConfig config;
  std::vector<GgufWeight> weights;  // in Hugging Face's load order
};

// BadInput naming the file and the key or tensor: an architecture that is not
// supported (with the list), a missing or out-of-range setting, a tensor that
// is missing, unexpected or of the wrong shape.
GgufModel read_gguf_model(const GgufFile& file);

// llama.cpp's name of a Hugging Face tensor: "model.layers.3.mlp.down_proj.weight"
// -> "blk.3.ffn_down.weight" (gguf-py's tensor_mapping.py).
std::string gguf_tensor_name(const std::string& hf_name);

// config.json's model_type -> llama.cpp's general.architecture: "llama"
// (llama; mistral, which convert_hf_to_gguf.py writes as llama), "qwen2",
// "qwen3"; "" for one llama.cpp's name is not known here.
std::string gguf_architecture(const std::string& model_type);

// Over how many heads llama.cpp's row order permutes the rows of tensor
// `hf_name` (q_proj's and k_proj's weight and bias, llama architecture), 0: none.
int64_t llama_cpp_permuted_heads(const ModelConfig& config, const std::string& hf_name);

// `rows` rows of values (row-major) of `heads` heads of d rows each, put in
// the other order: Hugging Face's row j·d/2 + i is llama.cpp's row 2i + j
// (convert_hf_to_gguf.py's permute: the export goes to LlamaCpp, the import
// back to HuggingFace).
enum class HeadOrder { HuggingFace, LlamaCpp };
std::vector<float> reorder_head_rows(const std::vector<float>& values, int64_t heads, int64_t rows, HeadOrder to);

// The weight's values as fp32, row-major in its shape, unpermuted.
std::vector<float> read_gguf_weight(const GgufFile& file, const GgufWeight& weight);

}  // namespace imsm
