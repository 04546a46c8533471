// A set of PEFT adapters attached to a model's linear layers, saved and loaded
// in Hugging Face PEFT's format: adapter_config.json + adapter_model.safetensors
// with keys "base_model.model.<module>.<tensor>".
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/llama.h"
#include "peft/adalora.h"
#include "peft/adapter.h"
#include "peft/peft_config.h"

namespace imsm {

class PeftAdapters {
 public:
  // Fresh adapters on every targeted module (initialisation seeded by `seed`).
  static std::unique_ptr<PeftAdapters> attach(LlamaModel& model, const PeftConfig& config, uint64_t seed);
  // Adapters from DIR/adapter_config.json and DIR/adapter_model.safetensors.
  // BadInput for missing, unexpected or wrongly shaped tensors, naming them.
  static std::unique_ptr<PeftAdapters> load(LlamaModel& model, const std::string& dir);
  ~PeftAdapters();  // detaches from the model
  PeftAdapters(const PeftAdapters&) = delete;
  PeftAdapters& operator=(const PeftAdapters&) = delete;

  // Writes both files (atomically each). AdaLoRA with a rank pattern is saved
  // as PEFT saves it: tensors cut to the kept ranks (`resize`), or whole for
  // checkpoints (the pattern then goes into training_state()).
  void save(const std::string& dir, bool resize = true) const;

  // Training hooks (no-ops for methods without them). AdaLoRA: the weighted
  // orthogonality regulariser, and rank allocation after each optimizer step.
  void begin_training(int64_t total_steps);
  torch::Tensor regularization_loss() const;  // scalar, or undefined
  void after_optimizer_step(int64_t global_step);  // 0-based step just taken
  std::vector<std::pair<std::string, torch::Tensor>> training_state() const;
  void load_training_state(const std::vector<std::pair<std::string, torch::Tensor>>& state);
  // Trainable tensors by PEFT key ("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").
  std::vector<std::pair<std::string, torch::Tensor*>> named_parameters() const;
  std::vector<torch::Tensor> parameters() const;
  int64_t num_parameters() const;
  void set_training(bool training);
  const PeftConfig& config() const { return config_; }
  // Folds every adapter into the weights of the layer it wraps and detaches
  // it (PEFT's merge_and_unload): the model alone then computes what model +
  // adapters did, dropout off. Afterwards this set is empty.
  void merge_and_unload();

 private:
  PeftAdapters(LlamaModel& model, PeftConfig config) : model_(model), config_(std::move(config)) {}
  LlamaModel& model_;
  PeftConfig config_;
  std::map<std::string, std::shared_ptr<PeftAdapter>> adapters_;  // module name -> adapter
  std::unique_ptr<RankAllocator> allocator_;                      // AdaLoRA while training
};

// "base_model.model." + module + "." + tensor: PEFT's key of an adapter tensor.
std::string peft_key(const std::string& module, const std::string& tensor);

}  // namespace imsm
