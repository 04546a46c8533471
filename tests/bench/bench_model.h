// The benchmarks' model shapes (random weights; the time and memory of a
// shape do not depend on the values).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "io/hf_config.h"

namespace imsm::bench {

// small: ~28M parameters: 8 layers, hidden 512, GQA 8/4 heads, SwiGLU 1376, 8k vocab (or `vocab`: Llama 3's is 128,256).
// 1b: Llama 3.2 1B's shape (16 layers, hidden 2048, GQA 32/8, SwiGLU 8192,
// vocabulary 128,256, tied embeddings: 1.24B parameters).
inline ModelConfig bench_config(const std::string& shape, int64_t vocab) {
  nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 512}, {"intermediate_size", 1376},
                      {"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"num_hidden_layers", 8},
                      {"vocab_size", vocab}, {"max_position_embeddings", 2048}};
  if (shape == "1b")
    j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 2048}, {"intermediate_size", 8192}, {"num_attention_heads", 32},
         {"num_key_value_heads", 8}, {"num_hidden_layers", 16}, {"vocab_size", 128256}, {"tie_word_embeddings", true},
         {"rope_theta", 500000.0}, {"max_position_embeddings", 131072}};
  return parse_model_config(j, "bench");
}

}  // namespace imsm::bench
