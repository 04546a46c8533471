// A Hugging Face model (its config, tokenizer and weights) as one GGUF file
// that llama.cpp and Ollama load, written as convert_hf_to_gguf.py writes it:
// the architecture's metadata (general.*, <arch>.*), the tokenizer and chat
// template (gguf_vocab.h), and every tensor under llama.cpp's name in the
// file type's ggml types (gguf_quant.h). For the llama architecture the rows
// of q_proj and k_proj are permuted within each head into llama.cpp's order
// (the inverse of gguf_model.h's import); Llama 3's rope_scaling becomes the
// rope_freqs.weight divisors (gguf_rope.h). Torch-free: the weights come
// from a callback, one tensor at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf_model.h"
#include "gguf/gguf_quant.h"
#include "gguf/gguf_vocab.h"
#include "io/hf_config.h"
#include "util/run_protocol.h"

namespace imsm {

// A weight's values as fp32, row-major in its Hugging Face shape, by its
// Hugging Face name ("model.layers.0.self_attn.q_proj.weight").
using WeightValues = std::function<std::vector<float>(const std::string& hf_name)>;

struct GgufExportResult {
  std::string architecture;              // general.architecture
  int64_t bytes = 0;
  std::map<std::string, int64_t> types;  // ggml type -> tensors of it ("q6_K": 31, "f32": 61)
};

// general.architecture of a model: "llama" (Llama, Mistral, SmolLM), "qwen2",
// "qwen3". BadInput naming config_path for others (with the list).
std::string gguf_architecture_of(const ModelConfig& config, const std::string& config_path);

// Weights' importance matrices by Hugging Face name (train/activation_stats.h);
// a weight without one is quantized as llama-quantize does without --imatrix.
// The file records them as llama-quantize --imatrix does (quantize.imatrix.*).
struct GgufImportance {
  std::map<std::string, std::vector<float>> means;
  std::string file, dataset;  // the imatrix file's name, the calibration data
  int64_t rows = 0;
};

// BadInput naming the model folder's config for an architecture or RoPE
// scaling llama.cpp does not run (with what it runs). Progress and the
// cancel rule as GgufWriter::write; nothing is left at `path` on failure.
GgufExportResult write_gguf_model(const std::string& path, const ModelConfig& config, const std::string& config_path,
                                  const GgufVocab& vocab, const std::string& name, const GgufQuant& quant,
                                  const WeightValues& weights, const Hooks& hooks, const GgufImportance& importance = {});

// An importance matrix as llama-imatrix writes it (general.type "imatrix";
// per weight "<gguf name>.in_sum2" [1, in] and ".counts" [1, 1], fp32), so
// that llama-quantize --imatrix can use it again. `sums` by Hugging Face name.
void write_gguf_imatrix(const std::string& path, const std::map<std::string, std::vector<float>>& sums, int64_t tokens,
                        const std::string& dataset, int64_t rows, int64_t row_tokens);

}  // namespace imsm
