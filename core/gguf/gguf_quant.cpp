#include "gguf/gguf_quant.h"

#include <ggml.h>

#include <cstdio>

#include "util/error.h"

namespace imsm {
namespace {

// llama.cpp's llama_ftype values.
const std::vector<GgufQuant>& quants() {
  static const std::vector<GgufQuant> q = {{"f32", 0}, {"f16", 1}, {"bf16", 32}, {"q8_0", 7}, {"q4_k_m", 15}};
  return q;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between.
bool use_more_bits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

int64_t layer_of(const std::string& gguf_name) {
  int layer = -1;
  return std::sscanf(gguf_name.c_str(), "blk.%d.", &layer) == 1 ? layer : -1;
}

// q4_k_m's choice before the fallback for rows that do not divide into blocks.
ggml_type q4_k_m_type(const std::string& name, int64_t row_length, int64_t n_layers, bool tied) {
  if (name == "output.weight" || (tied && name == "token_embd.weight"))
    return row_length % ggml_blck_size(GGML_TYPE_Q4_K) != 0 ? GGML_TYPE_Q8_0 : GGML_TYPE_Q6_K;
  if (ends_with(name, ".attn_v.weight") || ends_with(name, ".ffn_down.weight"))
    return use_more_bits(layer_of(name), n_layers) ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_K;
  return GGML_TYPE_Q4_K;
}

// llama.cpp's tensor_type_fallback for the types chosen here.
ggml_type fallback(ggml_type type, int64_t row_length) {
  if (row_length % ggml_blck_size(type) == 0) return type;
  if (type == GGML_TYPE_Q4_K) type = GGML_TYPE_Q5_0;
  else if (type == GGML_TYPE_Q6_K) type = GGML_TYPE_Q8_0;
  return row_length % ggml_blck_size(type) == 0 ? type : GGML_TYPE_F16;
}

}  // namespace

std::string gguf_quant_names() {
  std::string out;
  for (const auto& q : quants()) out += (out.empty() ? "" : ", ") + q.name;
  return out;
}

GgufQuant gguf_quant(const std::string& name, const std::string& where) {
  for (const auto& q : quants())
    if (q.name == name) return q;
  throw_bad_input(where, "\"" + name + "\" is not a GGUF type the export writes; choose one of " + gguf_quant_names());
}

std::string gguf_lora_quant_refusal(const std::string& name) {
  if (name == "f32" || name == "f16" || name == "bf16") return "";
  return "a GGUF LoRA is written in f32, f16 or bf16 (its matrices are small; llama.cpp applies it to any base), not " + name;
}

int gguf_tensor_type(const GgufQuant& quant, const std::string& name, const std::vector<int64_t>& shape, int64_t n_layers, bool tied) {
  // llama-quantize's rule: only 2-D+ tensors named *weight, never a norm, are converted.
  if (shape.size() < 2 || !ends_with(name, "weight") || ends_with(name, "_norm.weight")) return GGML_TYPE_F32;
  const int64_t row_length = shape.back();
  if (quant.name == "f32") return GGML_TYPE_F32;
  if (quant.name == "f16") return GGML_TYPE_F16;
  if (quant.name == "bf16") return GGML_TYPE_BF16;
  if (quant.name == "q8_0") return fallback(GGML_TYPE_Q8_0, row_length);
  return fallback(q4_k_m_type(name, row_length, n_layers, tied), row_length);
}

}  // namespace imsm
