// config.json of a Hugging Face causal LM of the Llama family
// (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/json_file.h"

namespace imsm {

struct RopeScaling {
  std::string type = "none";  // none | linear | dynamic | llama3
  double factor = 1.0;
  double low_freq_factor = 1.0;                 // llama3
  double high_freq_factor = 4.0;                // llama3
  int64_t original_max_position_embeddings = 0; // llama3, dynamic
};

struct ModelConfig {
  std::string architecture;   // as in "architectures": "LlamaForCausalLM"
  std::string model_type;     // "llama" | "mistral" | "qwen2" | "qwen3"
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;       // hidden_size / heads unless given
  int64_t num_hidden_layers = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // bias on q/k/v (Qwen2 always), o_proj (Llama attention_bias)
  bool o_proj_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;         // RMSNorm of each head's queries and keys before RoPE (Qwen3)
  int64_t sliding_window = 0;   // Mistral / Qwen2 / Qwen3; 0 = none. Recorded, not applied (see README).
  std::string hidden_act = "silu";
  std::string torch_dtype = "float32";
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  int64_t pad_token_id = -1;

  int64_t num_parameters() const;  // of the weights the layout implies
  nlohmann::json to_json() const;  // a config.json that from_json reads back
};

// Parses and checks a config.json; errors name the file and the key.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& where);
ModelConfig read_model_config(const std::string& config_json_path);

}  // namespace imsm
