// Which PEFT method, on which modules, with which hyper-parameters; read from
// and written to Hugging Face PEFT's adapter_config.json (torch-free).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/choices.h"

namespace imsm {

enum class PeftMethod { LoRA, DoRA, IA3, AdaLoRA };

// AdaLoRA's budget schedule and importance smoothing (HF PEFT's AdaLoraConfig).
struct AdaLoraSettings {
  int64_t target_r = 8;      // average rank left at the end (init_r is PeftConfig::r)
  int64_t tinit = 0;         // steps of warm-up before pruning
  int64_t tfinal = 0;        // final steps with the budget fixed
  int64_t delta_t = 1;       // steps between two allocations
  double beta1 = 0.85;       // smoothing of the sensitivity
  double beta2 = 0.85;       // smoothing of its uncertainty
  double orth_reg_weight = 0.5;
  int64_t total_step = 0;    // 0: the trainer's step count
  // false: the official IMSM code's AdaLoRA, which never calls update_and_allocate and computes its loss
  // outside PEFT's forward: the initial rank throughout, no orthogonal regulariser (docs/OFFICIAL.md #4).
  bool allocate = true;
  // Kept ranks per module once allocated ("model.layers.0.self_attn.q_proj" -> mask).
  std::map<std::string, std::vector<bool>> rank_pattern;
};

struct PeftConfig {
  PeftMethod method = PeftMethod::LoRA;
  int64_t r = 16;
  double alpha = 16;
  double dropout = 0.05;
  bool use_rslora = false;                  // scaling alpha / sqrt(r) instead of alpha / r
  std::vector<std::string> target_modules = {"q_proj", "v_proj"};
  std::vector<std::string> feedforward_modules;  // (IA)³: modules scaled on their input
  std::string base_model;                   // base_model_name_or_path
  std::vector<int64_t> layers_to_transform;  // adapters on these decoder layers only (PEFT's key); empty: every layer
  AdaLoraSettings adalora;

  double scaling() const;                   // LoRA/DoRA: alpha / r or alpha / sqrt(r)
  // "model.layers.0.self_attn.q_proj" -> is q_proj targeted, on a layer of layers_to_transform?
  bool targets(const std::string& module_name) const;
  bool is_feedforward(const std::string& module_name) const;
  nlohmann::json to_adapter_config() const;
  nlohmann::json layers_json() const;  // layers_to_transform as PEFT writes it: null for every layer
};

const Choices<PeftMethod>& peft_methods();  // lora, dora, ia3, adalora
std::string method_name(PeftMethod method);  // "lora", "dora", "ia3"
PeftMethod parse_method(const std::string& name, const std::string& where);

// adapter_config.json -> config. BadInput naming the file and key.
PeftConfig read_adapter_config(const std::string& path);

}  // namespace imsm
