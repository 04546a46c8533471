// Recipe: describe a model folder without loading its weights.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

struct ModelInfo {
  std::string dir;
  std::string architecture, model_type;
  int64_t num_parameters = 0;
  int64_t num_layers = 0, hidden_size = 0, intermediate_size = 0;
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0, vocab_size = 0, max_positions = 0;
  std::string rope;                    // "theta 500000, llama3 x8"
  bool tied_embeddings = false, qkv_bias = false;
  std::string stored_dtype;            // of the tensors on disk: "BF16", or "mixed"
  std::vector<std::string> weight_files;
  int64_t weight_bytes = 0;
  int64_t memory_f32 = 0, memory_bf16 = 0;  // weights in memory per compute dtype
  int64_t kv_cache_bytes_per_token_f32 = 0;
  std::string tokenizer;               // kind, or "none"
  int64_t tokenizer_vocab = 0;
  std::vector<int64_t> eos_ids;
  int64_t bos_id = -1;

  nlohmann::json to_json() const;
  std::string to_text() const;         // for people
};

// Checks config.json and every tensor against it (BadInput on any problem).
ModelInfo inspect_model(const std::string& dir);

}  // namespace imsm
