#include "recipes/train_config.h"

#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace {
const std::set<std::string> kModules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

std::vector<std::string> modules(const nlohmann::json& j, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const auto& v = j.at(key);
  if (!v.is_array()) throw_bad_input(where, "key \"" + key + "\" must be a list of module names");
  for (const auto& m : v) {
    if (!m.is_string() || !kModules.count(m.get<std::string>()))
      throw_bad_input(where, "key \"" + key + "\": \"" + (m.is_string() ? m.get<std::string>() : m.dump()) +
                                 "\" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    out.push_back(m.get<std::string>());
  }
  return out;
}

std::string one_of(const std::string& value, const std::set<std::string>& allowed, const std::string& key, const std::string& where) {
  if (allowed.count(value)) return value;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw_bad_input(where, "key \"" + key + "\": \"" + value + "\" is not one of " + list);
}
}  // namespace

TrainConfig parse_train_config(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_bad_input(where, "the training configuration must be a JSON object");
  TrainConfig c;
  static const std::set<std::string> known = {
      "model_path", "dataset", "data_path", "test_data_path", "max_input_length", "max_output_length", "device",
      "data_device", "peft", "lora_r", "lora_alpha", "lora_dropout", "gate_rank", "top_rank", "dropout_prob",
      "num_epochs", "batch_size", "accumulation_steps", "optimizer", "momentum", "weight_decay", "learning_rate",
      "lr_schedule", "num_warmup_ratio", "mode", "variant", "target_modules", "feedforward_modules", "use_rslora",
      "seed", "output_dir", "dtype", "save_steps", "gate_probe_examples", "gate_probe_data", "label", "resume_from", "max_grad_norm", "tinit", "tfinal", "deltaT",
      "orth_reg_weight", "input_field", "output_field", "instruction_field"};
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) throw_bad_input(where, "unknown key \"" + key + "\"");
  auto str = [&](const char* key, std::string& out) { out = json::get_string_or(j, key, out, where); };
  auto int_ = [&](const char* key, int64_t& out) { out = json::get_int_or(j, key, out, where); };
  auto num = [&](const char* key, double& out) { out = json::get_number_or(j, key, out, where); };
  c.model_path = json::get_string(j, "model_path", where);
  c.data_path = json::get_string(j, "data_path", where);
  str("dataset", c.dataset);
  str("test_data_path", c.test_data_path);
  int_("max_input_length", c.max_input_length);
  int_("max_output_length", c.max_output_length);
  str("device", c.device);
  str("data_device", c.data_device);
  str("peft", c.peft);
  c.peft = one_of(c.peft, {"lora", "dora", "ia3", "adalora"}, "peft", where);
  int_("lora_r", c.lora_r);
  num("lora_alpha", c.lora_alpha);
  num("lora_dropout", c.lora_dropout);
  int_("gate_rank", c.gate_rank);
  int_("top_rank", c.top_rank);
  num("dropout_prob", c.dropout_prob);
  int_("num_epochs", c.num_epochs);
  int_("batch_size", c.batch_size);
  int_("accumulation_steps", c.accumulation_steps);
  str("optimizer", c.optimizer);
  c.optimizer = one_of(c.optimizer, {"adamw", "adafactor"}, "optimizer", where);
  num("momentum", c.momentum);
  num("weight_decay", c.weight_decay);
  num("learning_rate", c.learning_rate);
  if (j.contains("lr_schedule") && j["lr_schedule"].is_null()) c.lr_schedule = "none";
  else str("lr_schedule", c.lr_schedule);
  if (c.lr_schedule == "None") c.lr_schedule = "none";  // the official configs write "None"
  c.lr_schedule = one_of(c.lr_schedule, {"cosine", "linear", "none"}, "lr_schedule", where);
  num("num_warmup_ratio", c.num_warmup_ratio);
  if (j.contains("mode")) {
    static const std::map<int64_t, std::string> modes = {{5, "query"}, {2, "no-query"}, {0, "no-gate"}};
    const int64_t mode = json::get_int(j, "mode", where);
    if (!modes.count(mode)) throw_bad_input(where, "key \"mode\": " + std::to_string(mode) + " is not 5 (query gate), 2 (gate without query) or 0 (no gate)");
    c.variant = modes.at(mode);
    if (j.contains("variant") && json::get_string(j, "variant", where) != c.variant)
      throw_bad_input(where, "keys \"mode\" (" + std::to_string(mode) + " = " + c.variant + ") and \"variant\" disagree");
  }
  str("variant", c.variant);
  c.variant = one_of(c.variant, {"query", "no-query", "no-gate", "none"}, "variant", where);
  if (j.contains("target_modules")) c.target_modules = modules(j, "target_modules", where);
  if (c.target_modules.empty())
    c.target_modules = c.peft == "ia3" ? std::vector<std::string>{"k_proj", "v_proj", "down_proj"} : std::vector<std::string>{"q_proj", "v_proj"};
  if (j.contains("feedforward_modules")) c.feedforward_modules = modules(j, "feedforward_modules", where);
  else if (c.peft == "ia3")
    for (const auto& m : c.target_modules)
      if (m == "down_proj" || m == "up_proj" || m == "gate_proj") c.feedforward_modules = {"down_proj"};
  c.use_rslora = json::get_bool_or(j, "use_rslora", false, where);
  int64_t seed = static_cast<int64_t>(c.seed);
  int_("seed", seed);
  c.seed = static_cast<uint64_t>(seed);
  str("output_dir", c.output_dir);
  str("dtype", c.dtype);
  int_("save_steps", c.save_steps);
  int_("gate_probe_examples", c.gate_probe_examples);
  str("gate_probe_data", c.gate_probe_data);
  str("label", c.label);
  str("resume_from", c.resume_from);
  num("max_grad_norm", c.max_grad_norm);
  str("input_field", c.input_field);
  str("output_field", c.output_field);
  str("instruction_field", c.instruction_field);
  int_("tinit", c.tinit);
  int_("tfinal", c.tfinal);
  int_("deltaT", c.delta_t);
  num("orth_reg_weight", c.orth_reg_weight);
  if (c.tinit < 0 || c.tfinal < 0 || c.delta_t <= 0) throw_bad_input(where, "keys \"tinit\", \"tfinal\" must be >= 0 and \"deltaT\" positive");
  if (c.peft == "adalora" && c.top_rank > c.lora_r) throw_bad_input(where, "key \"top_rank\" (target rank) must not exceed \"lora_r\" (initial rank)");

  auto positive = [&](const char* key, double v) {
    if (!(v > 0)) throw_bad_input(where, std::string("key \"") + key + "\" must be positive");
  };
  positive("max_input_length", static_cast<double>(c.max_input_length));
  positive("max_output_length", static_cast<double>(c.max_output_length));
  positive("lora_r", static_cast<double>(c.lora_r));
  positive("gate_rank", static_cast<double>(c.gate_rank));
  positive("num_epochs", static_cast<double>(c.num_epochs));
  positive("batch_size", static_cast<double>(c.batch_size));
  positive("accumulation_steps", static_cast<double>(c.accumulation_steps));
  positive("learning_rate", c.learning_rate);
  if (c.lora_dropout < 0 || c.lora_dropout >= 1) throw_bad_input(where, "key \"lora_dropout\" must be in [0, 1)");
  if (c.dropout_prob < 0 || c.dropout_prob >= 1) throw_bad_input(where, "key \"dropout_prob\" must be in [0, 1)");
  if (c.num_warmup_ratio < 0 || c.num_warmup_ratio > 1) throw_bad_input(where, "key \"num_warmup_ratio\" must be in [0, 1]");
  if (c.save_steps < 0) throw_bad_input(where, "key \"save_steps\" must be 0 or positive");
  if (c.gate_probe_examples < 0) throw_bad_input(where, "key \"gate_probe_examples\" must be 0 or positive");
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
    } catch (const nlohmann::json::parse_error&) {
      j[key] = value;  // a bare string
    }
  }
  return parse_train_config(j, overrides.empty() ? path : path + " (with --set)");
}

nlohmann::json TrainConfig::to_json() const {
  return {{"model_path", model_path}, {"dataset", dataset}, {"data_path", data_path}, {"test_data_path", test_data_path},
          {"max_input_length", max_input_length}, {"max_output_length", max_output_length}, {"device", device},
          {"peft", peft}, {"lora_r", lora_r}, {"lora_alpha", lora_alpha}, {"lora_dropout", lora_dropout},
          {"gate_rank", gate_rank}, {"dropout_prob", dropout_prob}, {"num_epochs", num_epochs},
          {"batch_size", batch_size}, {"accumulation_steps", accumulation_steps}, {"optimizer", optimizer},
          {"momentum", momentum}, {"weight_decay", weight_decay}, {"learning_rate", learning_rate},
          {"lr_schedule", lr_schedule}, {"num_warmup_ratio", num_warmup_ratio}, {"variant", variant},
          {"target_modules", target_modules}, {"feedforward_modules", feedforward_modules}, {"use_rslora", use_rslora},
          {"seed", seed}, {"output_dir", output_dir}, {"dtype", dtype}, {"save_steps", save_steps}, {"gate_probe_examples", gate_probe_examples},
          {"gate_probe_data", gate_probe_data}, {"label", label},
          {"resume_from", resume_from}, {"max_grad_norm", max_grad_norm}, {"top_rank", top_rank}, {"tinit", tinit},
          {"tfinal", tfinal}, {"deltaT", delta_t}, {"orth_reg_weight", orth_reg_weight},
          {"input_field", input_field}, {"output_field", output_field}, {"instruction_field", instruction_field}};
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

std::string missing_input(const TrainConfig& c, const std::function<bool(const std::string&)>& made_later) {
  namespace fs = std::filesystem;
  auto there = [&](const std::string& path) { return fs::is_regular_file(path) || (made_later && made_later(path)); };
  if (!fs::exists(fs::path(c.model_path) / "config.json"))
    return "model_path: " + c.model_path + " is not a Hugging Face model folder (no config.json)";
  if (!there(c.data_path)) return "data_path: no file " + c.data_path;
  if (!c.gate_probe_data.empty() && !there(c.gate_probe_data)) return "gate_probe_data: no file " + c.gate_probe_data;
  return "";
}

}  // namespace imsm
