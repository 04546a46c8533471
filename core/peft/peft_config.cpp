#include "peft/peft_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace {
std::string leaf(const std::string& module_name) {
  const auto dot = module_name.rfind('.');
  return dot == std::string::npos ? module_name : module_name.substr(dot + 1);
}
bool listed(const std::vector<std::string>& list, const std::string& module_name) {
  const std::string name = leaf(module_name);
  return std::find(list.begin(), list.end(), name) != list.end();
}
const char* kModules[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

// PEFT's layers_to_transform: null, one layer index or a list of them.
std::vector<int64_t> read_layers(const nlohmann::json& j, const std::string& path) {
  std::vector<int64_t> out;
  if (!j.contains("layers_to_transform") || j["layers_to_transform"].is_null()) return out;
  const auto& v = j["layers_to_transform"];
  const nlohmann::json list = v.is_array() ? v : nlohmann::json::array({v});
  for (const auto& layer : list) {
    if (!layer.is_number_integer() || layer.get<int64_t>() < 0)
      throw_bad_input(path, "\"layers_to_transform\" must be a layer index or a list of them (whole numbers from 0)");
    out.push_back(layer.get<int64_t>());
  }
  return out;
}
}  // namespace

double PeftConfig::scaling() const { return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r; }
// "model.layers.12.self_attn.q_proj" -> 12; -1 for a module outside the decoder layers.
int64_t layer_of(const std::string& module_name) {
  const std::string marker = "layers.";
  const auto at = module_name.find(marker);
  if (at == std::string::npos) return -1;
  const size_t begin = at + marker.size();
  size_t end = begin;
  while (end < module_name.size() && std::isdigit(static_cast<unsigned char>(module_name[end]))) ++end;
  return end == begin ? -1 : std::stoll(module_name.substr(begin, end - begin));
}

bool PeftConfig::targets(const std::string& module_name) const {
  if (!listed(target_modules, module_name)) return false;
  if (layers_to_transform.empty()) return true;
  const int64_t layer = layer_of(module_name);
  return std::find(layers_to_transform.begin(), layers_to_transform.end(), layer) != layers_to_transform.end();
}
bool PeftConfig::is_feedforward(const std::string& module_name) const { return listed(feedforward_modules, module_name); }

const Choices<PeftMethod>& peft_methods() {
  static const Choices<PeftMethod> c = {
      {"lora", PeftMethod::LoRA}, {"dora", PeftMethod::DoRA}, {"ia3", PeftMethod::IA3}, {"adalora", PeftMethod::AdaLoRA}};
  return c;
}

std::string method_name(PeftMethod m) { return peft_methods().name(m); }

PeftMethod parse_method(const std::string& name, const std::string& where) {
  if (const auto m = peft_methods().find(name)) return *m;
  throw_bad_input(where, "unknown peft method \"" + name + "\" (" + peft_methods().list() + ")");
}

nlohmann::json PeftConfig::to_adapter_config() const {
  if (method == PeftMethod::IA3) {
    return {{"peft_type", "IA3"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model},
            {"target_modules", target_modules}, {"feedforward_modules", feedforward_modules},
            {"fan_in_fan_out", false}, {"init_ia3_weights", true}, {"inference_mode", true},
            {"modules_to_save", nullptr}, {"layers_to_transform", layers_json()}};
  }
  if (method == PeftMethod::AdaLoRA) {
    nlohmann::json pattern = nullptr;
    if (!adalora.rank_pattern.empty()) {
      pattern = nlohmann::json::object();
      for (const auto& [module, mask] : adalora.rank_pattern) pattern[module + ".lora_E"] = mask;  // PEFT's keys
    }
    return {{"peft_type", "ADALORA"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model},
            {"r", r}, {"init_r", r}, {"target_r", adalora.target_r}, {"tinit", adalora.tinit}, {"tfinal", adalora.tfinal},
            {"deltaT", adalora.delta_t}, {"beta1", adalora.beta1}, {"beta2", adalora.beta2},
            {"orth_reg_weight", adalora.orth_reg_weight}, {"total_step", adalora.total_step}, {"rank_pattern", pattern},
            {"lora_alpha", alpha}, {"lora_dropout", dropout}, {"target_modules", target_modules}, {"bias", "none"},
            {"fan_in_fan_out", false}, {"init_lora_weights", true}, {"inference_mode", true}, {"modules_to_save", nullptr},
            {"layers_to_transform", layers_json()}};
  }
  return {{"peft_type", "LORA"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model},
          {"r", r}, {"lora_alpha", alpha}, {"lora_dropout", dropout}, {"target_modules", target_modules},
          {"use_dora", method == PeftMethod::DoRA}, {"use_rslora", use_rslora}, {"bias", "none"},
          {"fan_in_fan_out", false}, {"init_lora_weights", true}, {"inference_mode", true},
          {"modules_to_save", nullptr}, {"layers_to_transform", layers_json()}};
}

nlohmann::json PeftConfig::layers_json() const {
  return layers_to_transform.empty() ? nlohmann::json(nullptr) : nlohmann::json(layers_to_transform);
}

namespace {

// A list of module names; PEFT also allows one regex, of which we accept the
// plain names it usually holds.
std::vector<std::string> module_list(const nlohmann::json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  const auto& v = j[key];
  if (v.is_string()) {
    for (const char* m : kModules)
      if (v.get<std::string>().find(m) != std::string::npos) out.push_back(m);
    return out;
  }
  if (!v.is_array()) throw_bad_input(path, std::string("\"") + key + "\" must be a list of module names");
  for (const auto& m : v) {
    if (!m.is_string()) throw_bad_input(path, std::string("\"") + key + "\" must hold module names");
    const std::string name = m.get<std::string>();
    if (std::find(std::begin(kModules), std::end(kModules), name) == std::end(kModules))
      throw_bad_input(path, "unknown module \"" + name + "\" in \"" + key + "\" (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
    out.push_back(name);
  }
  return out;
}

// AdaLoRA's rank_pattern: module -> which of its init_r ranks are kept.
// PEFT writes "<module>.lora_E"; ".lora_E.default" and a "base_model.model." prefix are accepted too.
std::map<std::string, std::vector<bool>> read_rank_pattern(const nlohmann::json& j, int64_t init_r, const std::string& path) {
  std::map<std::string, std::vector<bool>> out;
  if (!j.contains("rank_pattern") || j["rank_pattern"].is_null()) return out;
  if (!j["rank_pattern"].is_object()) throw_bad_input(path, "\"rank_pattern\" must map modules to lists of true/false");
  for (const auto& [key, mask] : j["rank_pattern"].items()) {
    std::string module = key;
    if (module.rfind("base_model.model.", 0) == 0) module = module.substr(17);
    for (const std::string suffix : {".lora_E.default", ".lora_E"})
      if (module.size() > suffix.size() && module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0)
        module = module.substr(0, module.size() - suffix.size());
    if (!mask.is_array()) throw_bad_input(path, "rank_pattern \"" + key + "\" must be a list of true/false");
    std::vector<bool> bits;
    for (const auto& b : mask) {
      if (!b.is_boolean()) throw_bad_input(path, "rank_pattern \"" + key + "\" must be a list of true/false");
      bits.push_back(b.get<bool>());
    }
    if (static_cast<int64_t>(bits.size()) != init_r)
      throw_bad_input(path, "rank_pattern \"" + key + "\" has " + std::to_string(bits.size()) + " entries, init_r is " + std::to_string(init_r));
    out[module] = bits;
  }
  return out;
}

void read_adalora(const nlohmann::json& j, const std::string& path, PeftConfig& c) {
  c.method = PeftMethod::AdaLoRA;
  c.r = json::get_int_or(j, "init_r", json::get_int_or(j, "r", 12, path), path);
  if (c.r <= 0) throw_bad_input(path, "\"init_r\" must be positive");
  c.alpha = json::get_number_or(j, "lora_alpha", 8, path);
  c.dropout = json::get_number_or(j, "lora_dropout", 0.0, path);
  auto& a = c.adalora;
  a.target_r = json::get_int_or(j, "target_r", 8, path);
  a.tinit = json::get_int_or(j, "tinit", 0, path);
  a.tfinal = json::get_int_or(j, "tfinal", 0, path);
  a.delta_t = json::get_int_or(j, "deltaT", 1, path);
  a.beta1 = json::get_number_or(j, "beta1", 0.85, path);
  a.beta2 = json::get_number_or(j, "beta2", 0.85, path);
  a.orth_reg_weight = json::get_number_or(j, "orth_reg_weight", 0.5, path);
  a.total_step = json::get_int_or(j, "total_step", 0, path);
  a.rank_pattern = read_rank_pattern(j, c.r, path);
}

void read_lora(const nlohmann::json& j, const std::string& path, PeftConfig& c) {
  c.r = json::get_int(j, "r", path);
  if (c.r <= 0) throw_bad_input(path, "\"r\" must be positive");
  c.alpha = json::get_number_or(j, "lora_alpha", 8, path);
  c.dropout = json::get_number_or(j, "lora_dropout", 0.0, path);
  c.use_rslora = json::get_bool_or(j, "use_rslora", false, path);
  c.method = json::get_bool_or(j, "use_dora", false, path) ? PeftMethod::DoRA : PeftMethod::LoRA;
}

}  // namespace

PeftConfig read_adapter_config(const std::string& path) {
  const auto j = json::read_file(path);
  if (!j.is_object()) throw_bad_input(path, "adapter_config.json must be a JSON object");
  PeftConfig c;
  const std::string type = json::get_string(j, "peft_type", path);
  c.target_modules = module_list(j, "target_modules", path);
  if (c.target_modules.empty()) throw_bad_input(path, "\"target_modules\" names no module");
  c.base_model = json::get_string_or(j, "base_model_name_or_path", "", path);
  c.layers_to_transform = read_layers(j, path);
  if (type == "IA3") {
    c.method = PeftMethod::IA3;
    c.feedforward_modules = module_list(j, "feedforward_modules", path);
    for (const auto& f : c.feedforward_modules)
      if (!c.targets(f)) throw_bad_input(path, "feedforward module \"" + f + "\" is not in target_modules");
  } else if (type == "ADALORA") {
    read_adalora(j, path, c);
  } else if (type == "LORA") {
    read_lora(j, path, c);
  } else {
    throw_bad_input(path, "peft_type \"" + type + "\" is not supported (LORA, ADALORA, IA3)");
  }
  return c;
}

}  // namespace imsm
