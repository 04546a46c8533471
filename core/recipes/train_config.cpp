#include "recipes/train_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <cmath>
#include <map>
#include <sstream>
#include <set>
#include <type_traits>
#include <variant>

#include "io/json_file.h"
#include "train/replay.h"
#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

namespace {

const std::set<std::string> kModules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

// What a number must be.
enum class Range { Any, Positive, NonNegative, Probability /* [0, 1) */, Ratio /* [0, 1] */ };

using Member = std::variant<std::string TrainConfig::*, int64_t TrainConfig::*, uint64_t TrainConfig::*, double TrainConfig::*,
                            bool TrainConfig::*, std::vector<std::string> TrainConfig::*, std::vector<int64_t> TrainConfig::*>;

// One key of a training configuration: the member it sets, the values or range
// it allows, and whether the resolved configuration (to_json) writes it.
struct Key {
  const char* name;
  Member member;
  std::set<std::string> choices = {};
  Range range = Range::Any;
  bool written = true;
};

// The table of keys: reading, checking and writing a configuration all go by it.
const std::vector<Key>& keys() {
  using C = TrainConfig;
  static const std::vector<Key> table = {
      {"model_path", &C::model_path}, {"dataset", &C::dataset}, {"data_path", &C::data_path}, {"test_data_path", &C::test_data_path},
      {"max_input_length", &C::max_input_length, {}, Range::Positive}, {"max_output_length", &C::max_output_length, {}, Range::Positive},
      {"device", &C::device}, {"data_device", &C::data_device, {}, Range::Any, false},
      {"peft", &C::peft, {"lora", "dora", "ia3", "adalora"}},
      {"lora_r", &C::lora_r, {}, Range::Positive}, {"lora_alpha", &C::lora_alpha}, {"lora_dropout", &C::lora_dropout, {}, Range::Probability},
      {"gate_rank", &C::gate_rank, {}, Range::Positive}, {"top_rank", &C::top_rank, {}, Range::Positive}, {"dropout_prob", &C::dropout_prob, {}, Range::Probability},
      {"num_epochs", &C::num_epochs, {}, Range::Positive}, {"batch_size", &C::batch_size, {}, Range::Positive},
      {"accumulation_steps", &C::accumulation_steps, {}, Range::Positive}, {"optimizer", &C::optimizer, {"adamw", "adafactor"}},
      {"momentum", &C::momentum}, {"weight_decay", &C::weight_decay}, {"learning_rate", &C::learning_rate, {}, Range::Positive},
      {"gate_learning_rate", &C::gate_learning_rate, {}, Range::NonNegative},
      {"lr_schedule", &C::lr_schedule, {"cosine", "linear", "none"}}, {"num_warmup_ratio", &C::num_warmup_ratio, {}, Range::Ratio},
      {"variant", &C::variant, {"query", "no-query", "no-gate", "none"}},
      {"target_modules", &C::target_modules}, {"feedforward_modules", &C::feedforward_modules}, {"use_rslora", &C::use_rslora},
      {"seed", &C::seed}, {"output_dir", &C::output_dir}, {"dtype", &C::dtype}, {"save_steps", &C::save_steps, {}, Range::NonNegative},
      {"gate_probe_examples", &C::gate_probe_examples, {}, Range::NonNegative}, {"gate_probe_data", &C::gate_probe_data},
      {"label", &C::label}, {"sweep", &C::sweep}, {"resume_from", &C::resume_from}, {"max_grad_norm", &C::max_grad_norm}, {"loss_chunk_size", &C::loss_chunk_size},
      {"gradient_checkpointing", &C::gradient_checkpointing, {"auto", "on", "off"}}, {"memory_check", &C::memory_check},
      {"eval_task", &C::eval_task}, {"eval_steps", &C::eval_steps, {}, Range::NonNegative},
      {"eval_examples", &C::eval_examples, {}, Range::NonNegative}, {"eval_suite", &C::eval_suite}, {"best_metric", &C::best_metric},
      {"early_stopping_patience", &C::early_stopping_patience, {}, Range::NonNegative},
      {"tinit", &C::tinit, {}, Range::NonNegative}, {"tfinal", &C::tfinal, {}, Range::NonNegative}, {"deltaT", &C::delta_t, {}, Range::Positive},
      {"orth_reg_weight", &C::orth_reg_weight}, {"adalora_target_rank", &C::adalora_target_rank, {}, Range::NonNegative},
      {"adalora_allocation", &C::adalora_allocation},
      {"replay_data", &C::replay_data}, {"replay_ratio", &C::replay_ratio, {}, Range::Probability},
      {"ewc_lambda", &C::ewc_lambda, {}, Range::NonNegative}, {"ewc_data", &C::ewc_data}, {"ewc_examples", &C::ewc_examples, {}, Range::Positive},
      {"kl_lambda", &C::kl_lambda, {}, Range::NonNegative}, {"mix_alpha", &C::mix_alpha, {}, Range::Ratio},
      {"memory_cache", &C::memory_cache}, {"memory_cache_dtype", &C::memory_cache_dtype, {"auto", "f32", "bf16", "f16"}},
      {"memory_cache_mb", &C::memory_cache_mb, {}, Range::NonNegative}, {"layers_to_transform", &C::layers_to_transform},
      {"input_field", &C::input_field}, {"output_field", &C::output_field}, {"instruction_field", &C::instruction_field}};
  return table;
}

std::vector<std::string> modules(const nlohmann::json& j, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const auto& v = j.at(key);
  if (!v.is_array()) throw_bad_input(where, "key \"" + key + "\" must be a list of module names");
  for (const auto& m : v) {
    if (!m.is_string() || !kModules.count(m.get<std::string>()))
      throw_bad_input(where, "key \"" + key + "\": \"" + (m.is_string() ? m.get<std::string>() : m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) +
                                 "\" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    out.push_back(m.get<std::string>());
  }
  return out;
}

// A list of decoder layer indices (PEFT also takes one index).
std::vector<int64_t> layer_indices(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = j.at(key);
  const nlohmann::json list = v.is_array() ? v : nlohmann::json::array({v});
  std::vector<int64_t> out;
  for (const auto& layer : list) {
    if (!layer.is_number_integer() || layer.get<int64_t>() < 0)
      throw_bad_input(where, "key \"" + key + "\": " + layer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + " is not a layer index (a whole number from 0)");
    out.push_back(layer.get<int64_t>());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void check_choice(const std::string& value, const std::set<std::string>& allowed, const std::string& key, const std::string& where) {
  if (allowed.empty() || allowed.count(value)) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw_bad_input(where, "key \"" + key + "\": \"" + value + "\" is not one of " + list);
}

void check_range(double v, Range range, const std::string& key, const std::string& where) {
  std::ostringstream value;
  value << v;
  const std::string k = "key \"" + key + "\" is " + value.str() + ": it must be ";
  if (!std::isfinite(v) && range != Range::Any) throw_bad_input(where, k + "a finite number");
  if (range == Range::Positive && !(v > 0)) throw_bad_input(where, k + "positive");
  if (range == Range::NonNegative && v < 0) throw_bad_input(where, k + "0 or positive");
  if (range == Range::Probability && !(v >= 0 && v < 1)) throw_bad_input(where, k + "in [0, 1)");
  if (range == Range::Ratio && !(v >= 0 && v <= 1)) throw_bad_input(where, k + "in [0, 1]");
}

// The baselines' keys together: each needs its data, replay at least one row of each batch.
void check_baselines(const TrainConfig& c, const std::string& where) {
  if (c.replay_ratio > 0 && c.replay_data.empty()) throw_bad_input(where, "key \"replay_ratio\" needs \"replay_data\": the general data to replay");
  if (c.replay_ratio == 0 && !c.replay_data.empty()) throw_bad_input(where, "key \"replay_data\" needs \"replay_ratio\" above 0: the fraction of each batch to replay");
  if (c.replay_ratio > 0) replay_rows(c.replay_ratio, c.batch_size);  // at least one replayed and one task row
  if (c.ewc_lambda > 0 && c.ewc_data.empty()) throw_bad_input(where, "key \"ewc_lambda\" needs \"ewc_data\": the general data of EWC's Fisher");
  if (c.ewc_lambda > 0 && c.ewc_examples < kMinEwcExamples)
    throw_bad_input(where, "key \"ewc_examples\" is " + std::to_string(c.ewc_examples) + ": EWC's Fisher needs at least " +
                               std::to_string(kMinEwcExamples) + " examples");
  if (c.mix_alpha != 0.5 && c.variant != "no-gate")
    throw_bad_input(where, "key \"mix_alpha\" sets the fixed mix of the variant \"no-gate\" (this run's variant is \"" + c.variant +
                               "\"); to evaluate an adapter along α use imsm eval --mix-alpha");
}

// Sets the key's member from j when j has the key (a null: the default).
void read_key(const nlohmann::json& j, const Key& key, TrainConfig& c, const std::string& where) {
  if (!j.contains(key.name) || j[key.name].is_null()) return;
  std::visit(
      [&](auto member) {
        auto& out = c.*member;
        using T = std::decay_t<decltype(out)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out = json::get_string(j, key.name, where);
          if (!utf8::is_valid(out)) throw_bad_input(where, std::string("key \"") + key.name + "\": \"" + out + "\" is not valid UTF-8");
        }
        else if constexpr (std::is_same_v<T, int64_t>) out = json::get_int(j, key.name, where);
        else if constexpr (std::is_same_v<T, uint64_t>) out = static_cast<uint64_t>(json::get_int(j, key.name, where));
        else if constexpr (std::is_same_v<T, double>) out = json::get_number_or(j, key.name, out, where);
        else if constexpr (std::is_same_v<T, bool>) out = json::get_bool_or(j, key.name, out, where);
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) out = layer_indices(j, key.name, where);
        else out = modules(j, key.name, where);
      },
      key.member);
}

// The choices and the range of the key's value in c.
void check_key(const TrainConfig& c, const Key& key, const std::string& where) {
  std::visit(
      [&](auto member) {
        const auto& v = c.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) check_choice(v, key.choices, key.name, where);
        else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) check_range(static_cast<double>(v), key.range, key.name, where);
      },
      key.member);
}

// The official "mode" (5 | 2 | 0) names the variant; with "variant" too, the two agree.
void read_mode(const nlohmann::json& j, TrainConfig& c, const std::string& where) {
  static const std::map<int64_t, std::string> modes = {{5, "query"}, {2, "no-query"}, {0, "no-gate"}};
  const int64_t mode = json::get_int(j, "mode", where);
  if (!modes.count(mode)) throw_bad_input(where, "key \"mode\": " + std::to_string(mode) + " is not 5 (query gate), 2 (gate without query) or 0 (no gate)");
  if (j.contains("variant") && json::get_string(j, "variant", where) != modes.at(mode))
    throw_bad_input(where, "keys \"mode\" (" + std::to_string(mode) + " = " + modes.at(mode) + ") and \"variant\" disagree");
  c.variant = modes.at(mode);
}

// The modules a method puts its adapter on when the configuration names none.
void default_modules(const nlohmann::json& j, TrainConfig& c) {
  if (c.target_modules.empty())
    c.target_modules = c.peft == "ia3" ? std::vector<std::string>{"k_proj", "v_proj", "down_proj"} : std::vector<std::string>{"q_proj", "v_proj"};
  if (j.contains("feedforward_modules") || c.peft != "ia3") return;
  for (const auto& m : c.target_modules)
    if (m == "down_proj" || m == "up_proj" || m == "gate_proj") c.feedforward_modules = {"down_proj"};
}

}  // namespace

TrainConfig parse_train_config(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_bad_input(where, "the training configuration must be a JSON object");
  for (const auto& item : j.items()) {
    const std::string& name = item.key();
    if (name != "mode" && std::none_of(keys().begin(), keys().end(), [&](const Key& k) { return name == k.name; }))
      throw_bad_input(where, "unknown key \"" + name + "\"");
  }
  TrainConfig c;
  c.model_path = json::get_string(j, "model_path", where);
  c.data_path = json::get_string(j, "data_path", where);
  for (const Key& key : keys()) read_key(j, key, c, where);
  if (j.contains("lr_schedule") && j["lr_schedule"].is_null()) c.lr_schedule = "none";
  if (c.lr_schedule == "None") c.lr_schedule = "none";  // the official configs write "None"
  if (j.contains("mode")) read_mode(j, c, where);
  default_modules(j, c);
  for (const Key& key : keys()) check_key(c, key, where);
  if (c.peft == "adalora" && c.adalora_target_rank > c.lora_r)
    throw_bad_input(where, "key \"adalora_target_rank\" must not exceed \"lora_r\" (AdaLoRA's initial rank)");
  // The official optimizer groups: AdamW gives the gate's parameters its default 1e-3 (train.py:238-254), Adafactor the one rate (:256-275).
  if (c.loss_chunk_size < -1) throw_bad_input(where, "key \"loss_chunk_size\" must be -1 (automatic), 0 (whole batch) or positive");
  check_baselines(c, where);
  if (c.gate_learning_rate == 0) c.gate_learning_rate = c.optimizer == "adafactor" ? c.learning_rate : 1e-3;
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
  for (const Key& key : keys())
    if (key.written) std::visit([&](auto member) { j[key.name] = this->*member; }, key.member);
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

PeftConfig peft_config(const TrainConfig& c) {
  PeftConfig p;
  p.method = parse_method(c.peft, "peft");
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
