// Recipe: write a Llama-family model folder with freshly initialised weights
// (demos, benchmarks, tests; until the bundled pretrained model exists).
#pragma once
#include <cstdint>
#include <string>

namespace imsm {

struct CreateModelRequest {
  std::string out_dir;
  std::string tokenizer;            // a tokenizer.json, tokenizer.model or folder to copy; "" = none
  std::string architecture = "LlamaForCausalLM";
  int64_t hidden_size = 256, intermediate_size = 688, num_layers = 4, num_heads = 8, num_kv_heads = 4;
  int64_t vocab_size = 0;           // 0: the tokenizer's size
  int64_t max_positions = 2048;
  bool tie_word_embeddings = false;
  uint64_t seed = 0;
  std::string dtype = "float32";    // of the saved weights
};

// Returns the number of parameters written.
int64_t create_model(const CreateModelRequest& request);

}  // namespace imsm
