#include "peft/peft_model.h"

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <set>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/tensor_io.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

std::string peft_key(const std::string& module, const std::string& tensor) {
  return "base_model.model." + module + "." + tensor;
}

std::unique_ptr<PeftAdapters> PeftAdapters::attach(LlamaModel& model, const PeftConfig& config, uint64_t seed) {
  for (const int64_t layer : config.layers_to_transform)
    if (layer >= model.config().num_hidden_layers)
      throw_bad_input("layers_to_transform", "layer " + std::to_string(layer) + " is not in this model (layers 0 .. " +
                                                 std::to_string(model.config().num_hidden_layers - 1) + ")");
  std::unique_ptr<PeftAdapters> out(new PeftAdapters(model, config));
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& [name, linear] : model.linears()) {
    if (!config.targets(name)) continue;
    if (linear->adapter) throw_internal("module " + name + " already has an adapter");
    std::shared_ptr<PeftAdapter> adapter;
    if (config.method == PeftMethod::IA3) {
      adapter = std::make_shared<Ia3Adapter>(*linear, config.is_feedforward(name));
    } else if (config.method == PeftMethod::AdaLoRA) {
      const auto& pattern = config.adalora.rank_pattern;
      const auto it = pattern.find(name);  // a saved adapter keeps only its pattern's ranks
      const int64_t r = it == pattern.end() ? config.r : std::count(it->second.begin(), it->second.end(), true);
      adapter = std::make_shared<AdaLoraAdapter>(*linear, config, r, gen);
    } else {
      adapter = std::make_shared<LoraAdapter>(*linear, config, gen);
    }
    linear->adapter = adapter;
    out->adapters_[name] = adapter;
  }
  if (out->adapters_.empty()) throw_bad_input("target_modules", "no linear layer of the model matches");
  return out;
}

PeftAdapters::~PeftAdapters() {
  for (auto& [name, linear] : model_.linears())
    if (adapters_.count(name) && linear->adapter == adapters_[name]) linear->adapter.reset();
}

std::vector<std::pair<std::string, torch::Tensor*>> PeftAdapters::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor*>> out;
  for (const auto& [module, adapter] : adapters_)
    for (auto& [name, tensor] : adapter->named_tensors()) out.emplace_back(peft_key(module, name), tensor);
  return out;
}

std::vector<torch::Tensor> PeftAdapters::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : named_parameters()) out.push_back(*t);
  return out;
}

int64_t PeftAdapters::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t->numel();
  return n;
}

void PeftAdapters::merge_and_unload() {
  for (auto& [name, linear] : model_.linears()) {
    const auto it = adapters_.find(name);
    if (it == adapters_.end() || linear->adapter != it->second) continue;
    it->second->merge_into(*linear);
    linear->adapter.reset();
  }
  adapters_.clear();
  allocator_.reset();
}

void PeftAdapters::set_training(bool training) {
  for (auto& [name, adapter] : adapters_) adapter->set_training(training);
}

namespace {
// Indices of the kept ranks of a pattern.
torch::Tensor kept_ranks(const std::vector<bool>& mask, torch::Device device) {
  std::vector<int64_t> idx;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) idx.push_back(static_cast<int64_t>(i));
  return torch::tensor(idx, torch::kInt64).to(device);
}
}  // namespace

void PeftAdapters::save(const std::string& dir, bool resize) const {
  fs::create_directories(dir);
  PeftConfig config = config_;
  const bool cut = config.method == PeftMethod::AdaLoRA && resize && !config.adalora.rank_pattern.empty();
  if (config.method == PeftMethod::AdaLoRA && !resize) config.adalora.rank_pattern.clear();
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [module, adapter] : adapters_) {
    for (const auto& [name, t] : adapter->named_tensors()) {
      torch::Tensor value = t->detach().to(torch::kFloat32);
      const auto it = config.adalora.rank_pattern.find(module);
      if (cut && it != config.adalora.rank_pattern.end() && static_cast<int64_t>(it->second.size()) == t->size(name == "lora_B" ? 1 : 0))
        value = value.index_select(name == "lora_B" ? 1 : 0, kept_ranks(it->second, value.device()));  // PEFT's resize
      tensors.emplace_back(peft_key(module, name), value);
    }
  }
  save_tensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});
  json::write_file((fs::path(dir) / "adapter_config.json").string(), config.to_adapter_config());
}

std::unique_ptr<PeftAdapters> PeftAdapters::load(LlamaModel& model, const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  if (!fs::exists(config_path)) throw_bad_input(dir, "no adapter_config.json: not a PEFT adapter folder");
  const PeftConfig config = read_adapter_config(config_path);
  const std::string weights_path = (fs::path(dir) / "adapter_model.safetensors").string();
  if (!fs::exists(weights_path)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin"))
      throw_bad_input((fs::path(dir) / "adapter_model.bin").string(),
                      "pickled adapter weights are refused (loading them can run arbitrary code); convert to adapter_model.safetensors");
    throw_bad_input(dir, "no adapter_model.safetensors");
  }
  const SafetensorsFile file = SafetensorsFile::open(weights_path);
  auto out = attach(model, config, 0);
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (auto& [key, tensor] : out->named_parameters()) {
    const TensorView* view = file.find(key);
    // Older PEFT releases saved DoRA's magnitude without ".weight".
    std::string found = key;
    if (!view && key.size() > 7 && key.compare(key.size() - 7, 7, ".weight") == 0 && key.find("lora_magnitude_vector") != std::string::npos) {
      found = key.substr(0, key.size() - 7);
      view = file.find(found);
    }
    if (!view) throw_bad_input(weights_path, "missing tensor \"" + key + "\" (adapter_config.json targets this module)");
    const torch::Tensor loaded = to_tensor(*view, file.mapping(), tensor->device(), tensor->scalar_type());
    const bool same_numel = loaded.numel() == tensor->numel();
    const bool magnitude_1d = found != key || key.find("lora_magnitude_vector") != std::string::npos;
    if (loaded.sizes() != tensor->sizes() && !(magnitude_1d && same_numel)) {
      throw_bad_input(weights_path + ": tensor \"" + key + "\"",
                      "shape " + c10::str(loaded.sizes()) + " does not fit the model, which needs " + c10::str(tensor->sizes()));
    }
    tensor->copy_(loaded.view(tensor->sizes()));
    used.insert(found);
  }
  for (const auto& t : file.tensors())
    if (!used.count(t.name)) throw_bad_input(weights_path + ": tensor \"" + t.name + "\"", "unexpected tensor for this adapter_config.json and model");
  return out;
}

}  // namespace imsm

namespace imsm {

void PeftAdapters::begin_training(int64_t total_steps) {
  if (config_.method != PeftMethod::AdaLoRA || !config_.adalora.allocate) return;  // no allocator: no pruning, no regulariser
  if (config_.adalora.total_step <= 0) config_.adalora.total_step = total_steps;
  std::map<std::string, AdaLoraAdapter*> modules;
  for (auto& [name, a] : adapters_) modules[name] = static_cast<AdaLoraAdapter*>(a.get());
  allocator_ = std::make_unique<RankAllocator>(modules, config_.adalora, config_.r);
}

torch::Tensor PeftAdapters::regularization_loss() const {
  if (!allocator_ || config_.adalora.orth_reg_weight <= 0) return torch::Tensor();
  return config_.adalora.orth_reg_weight * allocator_->orthogonal_regularization();
}

void PeftAdapters::after_optimizer_step(int64_t global_step) {
  if (!allocator_) return;
  config_.adalora.rank_pattern = allocator_->update_and_allocate(global_step);
}

std::vector<std::pair<std::string, torch::Tensor>> PeftAdapters::training_state() const {
  if (!allocator_) return {};
  auto out = allocator_->state();
  for (const auto& [module, mask] : allocator_->rank_pattern()) {
    torch::Tensor bits = torch::zeros({static_cast<int64_t>(mask.size())}, torch::kUInt8);
    for (size_t i = 0; i < mask.size(); ++i) bits[static_cast<int64_t>(i)] = mask[i] ? 1 : 0;
    out.emplace_back("pattern/" + module, bits);
  }
  return out;
}

void PeftAdapters::load_training_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  if (!allocator_) return;
  std::vector<std::pair<std::string, torch::Tensor>> importance;
  std::map<std::string, std::vector<bool>> pattern;
  for (const auto& [key, t] : state) {
    if (key.rfind("pattern/", 0) == 0) {
      const torch::Tensor bits = t.to(torch::kCPU, torch::kUInt8);
      std::vector<bool>& mask = pattern[key.substr(8)];
      for (int64_t i = 0; i < bits.numel(); ++i) mask.push_back(bits[i].item<uint8_t>() != 0);
    } else {
      importance.emplace_back(key, t);
    }
  }
  allocator_->load_state(importance);
  allocator_->set_rank_pattern(pattern);
  config_.adalora.rank_pattern = pattern;
}

}  // namespace imsm
