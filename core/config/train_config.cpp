#include "config/train_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "io/json_file.h"
#include "train/replay.h"
#include "util/error.h"

namespace imsm {

namespace {

// The baselines' keys together: each needs its data, replay at least one row of each batch.
void check_baselines(const TrainConfig& c, const std::string& where) {
  const bool self = c.replay_self_examples > 0;
  if (self && !c.replay_data.empty())
    throw_bad_input(where, "keys \"replay_data\" and \"replay_self_examples\" both say what to replay: keep one");
  if (c.replay_ratio > 0 && c.replay_data.empty() && !self)
    throw_bad_input(where, "key \"replay_ratio\" needs \"replay_data\" (general data to replay) or \"replay_self_examples\" (the model's own)");
  if (c.replay_ratio == 0 && !c.replay_data.empty()) throw_bad_input(where, "key \"replay_data\" needs \"replay_ratio\" above 0: the fraction of each batch to replay");
  if (c.replay_ratio == 0 && self) throw_bad_input(where, "key \"replay_self_examples\" needs \"replay_ratio\" above 0: the fraction of each batch to replay");
  if (c.replay_ratio > 0) replay_rows(c.replay_ratio, c.batch_size);  // at least one replayed and one task row
  if (c.ewc_lambda > 0 && c.ewc_data.empty()) throw_bad_input(where, "key \"ewc_lambda\" needs \"ewc_data\": the general data of EWC's Fisher");
  if (c.ewc_lambda > 0 && c.ewc_examples < kMinEwcExamples)
    throw_bad_input(where, "key \"ewc_examples\" is " + std::to_string(c.ewc_examples) + ": EWC's Fisher needs at least " +
                               std::to_string(kMinEwcExamples) + " examples");
  if (c.mix_alpha != 0.5 && c.variant != GateVariant::NoGate)
    throw_bad_input(where, "key \"mix_alpha\" sets the fixed mix of the variant \"no-gate\" (this run's variant is \"" +
                               variant_name(c.variant) + "\"); to evaluate an adapter along α use imsm eval --mix-alpha");
}

// The official "mode" (5 | 2 | 0) names the variant; with "variant" too, the two agree.
void read_mode(const nlohmann::json& j, TrainConfig& c, const std::string& where) {
  static const std::map<int64_t, GateVariant> modes = {{5, GateVariant::Query}, {2, GateVariant::NoQuery}, {0, GateVariant::NoGate}};
  const int64_t mode = json::get_int(j, "mode", where);
  if (!modes.count(mode)) throw_bad_input(where, "key \"mode\": " + std::to_string(mode) + " is not 5 (query gate), 2 (gate without query) or 0 (no gate)");
  if (j.contains("variant") && !j["variant"].is_null() && c.variant != modes.at(mode))
    throw_bad_input(where, "keys \"mode\" (" + std::to_string(mode) + " = " + variant_name(modes.at(mode)) + ") and \"variant\" disagree");
  c.variant = modes.at(mode);
}

// The modules a method puts its adapter on when the configuration names none.
void default_modules(const nlohmann::json& j, TrainConfig& c) {
  const bool ia3 = c.peft == PeftMethod::IA3;
  if (c.target_modules.empty())
    c.target_modules = ia3 ? std::vector<std::string>{"k_proj", "v_proj", "down_proj"} : std::vector<std::string>{"q_proj", "v_proj"};
  if (j.contains("feedforward_modules") || !ia3) return;
  for (const auto& m : c.target_modules)
    if (m == "down_proj" || m == "up_proj" || m == "gate_proj") c.feedforward_modules = {"down_proj"};
}

}  // namespace

TrainConfig parse_train_config(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_bad_input(where, "the training configuration must be a JSON object");
  for (const auto& item : j.items()) {
    const std::string& name = item.key();
    if (name != "mode" && !find_train_key(name)) throw_bad_input(where, "unknown key \"" + name + "\"");
  }
  TrainConfig c;
  c.model_path = json::get_string(j, "model_path", where);
  c.data_path = json::get_string(j, "data_path", where);
  for (const TrainKey& key : train_keys())
    if (j.contains(key.name) && !j[key.name].is_null()) key.read(c, j, where);
  if (j.contains("lr_schedule") && j["lr_schedule"].is_null()) c.lr_schedule = LrSchedule::None;
  if (j.contains("mode")) read_mode(j, c, where);
  default_modules(j, c);
  for (const TrainKey& key : train_keys())
    if (key.check) key.check(c, where);
  if (c.peft == PeftMethod::AdaLoRA && c.adalora_target_rank > c.lora_r)
    throw_bad_input(where, "key \"adalora_target_rank\" must not exceed \"lora_r\" (AdaLoRA's initial rank)");
  // The official optimizer groups: AdamW gives the gate's parameters its default 1e-3 (train.py:238-254), Adafactor the one rate (:256-275).
  if (c.loss_chunk_size < -1) throw_bad_input(where, "key \"loss_chunk_size\" must be -1 (automatic), 0 (whole batch) or positive");
  check_baselines(c, where);
  if (c.gate_learning_rate == 0) c.gate_learning_rate = c.optimizer == OptimizerKind::Adafactor ? c.learning_rate : 1e-3;
  return c;
}

TrainConfig read_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json j = json::read_file(path);
  if (!j.is_object()) throw_bad_input(path, "the training configuration must be a JSON object");
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw_bad_input("--set", "\"" + o + "\" is not key=value");
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    try {
      j[key] = nlohmann::json::parse(value);
    } catch (const nlohmann::json::exception&) {  // not JSON, or a number beyond a double (1e309)
      j[key] = value;  // a bare string
    }
  }
  return parse_train_config(j, overrides.empty() ? path : path + " (with --set)");
}

nlohmann::json TrainConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const TrainKey& key : train_keys())
    if (key.written) j[key.name] = key.write(*this);
  return j;
}

std::vector<TrainConfig> expand_seeds(const nlohmann::json& config, const std::string& seeds, const std::string& where) {
  std::vector<std::string> items;
  std::string item;
  for (const char ch : seeds + " ") {
    if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else {
      item += ch;
    }
  }
  if (items.empty()) throw_bad_input("seed", "give at least one seed");
  std::vector<TrainConfig> out;
  for (const std::string& s : items) {
    if (s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
      throw_bad_input("seed", "\"" + s + "\" is not a non-negative whole number");
    nlohmann::json j = config;
    j["seed"] = std::stoull(s);
    if (items.size() > 1) j["output_dir"] = j.value("output_dir", std::string()) + "-seed" + s;
    out.push_back(parse_train_config(j, where));
  }
  return out;
}

int64_t loss_chunk_of(const TrainConfig& c) { return c.loss_chunk_size >= 0 ? c.loss_chunk_size : 1024; }

PeftConfig peft_config(const TrainConfig& c) {
  PeftConfig p;
  p.method = c.peft;
  p.r = c.lora_r;
  p.alpha = c.lora_alpha;
  p.dropout = c.lora_dropout;
  p.use_rslora = c.use_rslora;
  p.target_modules = c.target_modules;
  p.feedforward_modules = c.feedforward_modules;
  p.base_model = c.model_path;
  p.layers_to_transform = c.layers_to_transform;
  p.adalora.target_r = c.adalora_target_rank > 0 ? c.adalora_target_rank : std::max<int64_t>(1, c.lora_r * 2 / 3);  // PEFT's 12 -> 8 ratio
  p.adalora.allocate = c.adalora_allocation;
  p.adalora.tinit = c.tinit;
  p.adalora.tfinal = c.tfinal;
  p.adalora.delta_t = c.delta_t;
  p.adalora.orth_reg_weight = c.orth_reg_weight;
  return p;
}

std::string missing_input(const TrainConfig& c, const std::function<bool(const std::string&)>& made_later) {
  namespace fs = std::filesystem;
  auto there = [&](const std::string& path) { return fs::is_regular_file(path) || (made_later && made_later(path)); };
  if (!fs::exists(fs::path(c.model_path) / "config.json"))
    return "model_path: " + c.model_path + " is not a Hugging Face model folder (no config.json)";
  if (!there(c.data_path)) return "data_path: no file " + c.data_path;
  if (!c.gate_probe_data.empty() && !there(c.gate_probe_data)) return "gate_probe_data: no file " + c.gate_probe_data;
  if (!c.test_data_path.empty() && !there(c.test_data_path)) return "test_data_path: no file " + c.test_data_path;
  if (!c.eval_suite.empty() && !there(c.eval_suite)) return "eval_suite: no file " + c.eval_suite;
  if (!c.replay_data.empty() && !there(c.replay_data)) return "replay_data: no file " + c.replay_data;
  if (!c.ewc_data.empty() && !there(c.ewc_data)) return "ewc_data: no file " + c.ewc_data;
  return "";
}

}  // namespace imsm
