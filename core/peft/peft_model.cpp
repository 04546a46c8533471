#include "peft/peft_model.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "io/safetensors.h"
#include "model/tensor_io.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

std::string peft_key(const std::string& module, const std::string& tensor) {
  return "base_model.model." + module + "." + tensor;
}

std::unique_ptr<PeftAdapters> PeftAdapters::attach(LlamaModel& model, const PeftConfig& config, uint64_t seed) {
  std::unique_ptr<PeftAdapters> out(new PeftAdapters(model, config));
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& [name, linear] : model.linears()) {
    if (!config.targets(name)) continue;
    if (linear->adapter) throw_internal("module " + name + " already has an adapter");
    std::shared_ptr<PeftAdapter> adapter;
    if (config.method == PeftMethod::IA3) adapter = std::make_shared<Ia3Adapter>(*linear, config.is_feedforward(name));
    else adapter = std::make_shared<LoraAdapter>(*linear, config, gen);
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

void PeftAdapters::set_training(bool training) {
  for (auto& [name, adapter] : adapters_) adapter->set_training(training);
}

void PeftAdapters::save(const std::string& dir) const {
  fs::create_directories(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [name, t] : named_parameters()) tensors.emplace_back(name, t->to(torch::kFloat32));
  save_tensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  {
    std::ofstream out(config_path + ".tmp");
    out << config_.to_adapter_config().dump(2) << "\n";
    if (!out) throw_bad_input(config_path, "cannot write");
  }
  fs::rename(config_path + ".tmp", config_path);
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
