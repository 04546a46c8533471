// Tiny model configurations and random models shared by the model tests.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "io/hf_config.h"
#include "model/layout.h"
#include "model/llama.h"

namespace imsm::testing {

// Tiny configs: "llama-gqa" (GQA, untied), "qwen2" (q/k/v bias, tied head, head_dim
// 12), "llama3" (MHA, biases, llama3 RoPE), "mistral", "linear", "dynamic" (RoPE scalings).
inline imsm::ModelConfig tiny_config(const std::string& variant) {
  nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 32}, {"intermediate_size", 48},
                      {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"num_hidden_layers", 2},
                      {"vocab_size", 40}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}};
  if (variant == "qwen2") {  // q/k/v bias, tied head, head_dim != hidden / heads
    j["architectures"] = {"Qwen2ForCausalLM"};
    j["tie_word_embeddings"] = true;
    j["head_dim"] = 12;
    j["num_key_value_heads"] = 1;
  }
  if (variant == "qwen3") {  // per-head q/k norms, head_dim != hidden / heads, GQA, tied head
    j["architectures"] = {"Qwen3ForCausalLM"};
    j["tie_word_embeddings"] = true;
    j["head_dim"] = 16;
  }
  if (variant == "llama3") {  // MHA, q/k/v/o bias, llama3 rope scaling that bites at short lengths
    j["num_key_value_heads"] = 4;
    j["attention_bias"] = true;
    j["rope_theta"] = 500000.0;
    j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  }
  if (variant == "mistral") j["architectures"] = {"MistralForCausalLM"};
  if (variant == "linear") j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  if (variant == "dynamic") {  // NTK scaling engages past 16 positions
    j["max_position_embeddings"] = 16;
    j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  }
  return imsm::parse_model_config(j, variant);
}

// Random weights with enough spread that logits are O(1): std 0.3, norms near 1.
inline std::unique_ptr<imsm::LlamaModel> random_model(const imsm::ModelConfig& c, uint64_t seed,
                                               torch::ScalarType dtype = torch::kFloat32) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, torch::Tensor> w;
  for (const auto& e : imsm::expected_tensors(c)) {
    const bool norm = e.name.find("norm.weight") != std::string::npos;
    const torch::Tensor t = norm ? 1.0 + 0.1 * at::normal(0.0, 1.0, e.shape, gen) : at::normal(0.0, 0.3, e.shape, gen);
    w[e.name] = t.to(dtype);
  }
  return std::make_unique<imsm::LlamaModel>(c, std::move(w));
}

// A decode step (model/generate.h) that also records how many rows each call was fed.
template <class Step>
struct RowRecorder : Step {
  using Step::Step;
  std::vector<int64_t> rows;
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override {
    rows.push_back(ids.size(0));
    return Step::next_logits(ids, positions, mask);
  }
};

}  // namespace imsm::testing
