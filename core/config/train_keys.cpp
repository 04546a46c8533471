// The table of `imsm train`'s keys: one row per key, its member of
// TrainConfig, its type, choices, range and help. Reading, checking and writing
// a configuration, `imsm train --help-keys`, docs/CLI.md and the run dialog
// all go by it; adding a key is one row.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <type_traits>

#include "config/train_config.h"
#include "io/json_file.h"
#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

namespace {

using C = TrainConfig;

const std::vector<std::string> kModules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

std::string dump(const nlohmann::json& v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::vector<std::string> modules(const nlohmann::json& v, const std::string& key, const std::string& where) {
  if (!v.is_array()) throw_bad_input(where, "key \"" + key + "\" must be a list of module names");
  std::vector<std::string> out;
  for (const auto& m : v) {
    if (!m.is_string() || std::find(kModules.begin(), kModules.end(), m.get<std::string>()) == kModules.end())
      throw_bad_input(where, "key \"" + key + "\": \"" + (m.is_string() ? m.get<std::string>() : dump(m)) +
                                 "\" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    out.push_back(m.get<std::string>());
  }
  return out;
}

// A list of decoder layer indices (PEFT also takes one index), sorted, each once.
std::vector<int64_t> layer_indices(const nlohmann::json& v, const std::string& key, const std::string& where) {
  const nlohmann::json list = v.is_array() ? v : nlohmann::json::array({v});
  std::vector<int64_t> out;
  for (const auto& layer : list) {
    if (!layer.is_number_integer() || layer.get<int64_t>() < 0)
      throw_bad_input(where, "key \"" + key + "\": " + dump(layer) + " is not a layer index (a whole number from 0)");
    out.push_back(layer.get<int64_t>());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
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

// A key of a plain member: text, a whole number, a number, a flag, a list of modules or of layers.
template <class T>
TrainKey plain(const char* name, T C::*member, const char* help, Range range = Range::Any) {
  TrainKey k;
  k.name = name;
  k.help = help;
  k.range = range;
  const std::string key = name;
  if constexpr (std::is_same_v<T, std::string>) {
    k.type = KeyType::Text;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) {
      c.*member = json::get_string(j, key, where);
      if (!utf8::is_valid(c.*member)) throw_bad_input(where, "key \"" + key + "\": \"" + c.*member + "\" is not valid UTF-8");
    };
  } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) {
    k.type = KeyType::Integer;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) { c.*member = static_cast<T>(json::get_int(j, key, where)); };
  } else if constexpr (std::is_same_v<T, double>) {
    k.type = KeyType::Number;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) { c.*member = json::get_number_or(j, key, c.*member, where); };
  } else if constexpr (std::is_same_v<T, bool>) {
    k.type = KeyType::Boolean;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) { c.*member = json::get_bool_or(j, key, c.*member, where); };
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    k.type = KeyType::Layers;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) { c.*member = layer_indices(j.at(key), key, where); };
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>, "a TrainConfig member of a type the table does not know");
    k.type = KeyType::Modules;
    k.choices = kModules;
    k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) { c.*member = modules(j.at(key), key, where); };
  }
  k.write = [member](const C& c) { return nlohmann::json(c.*member); };
  if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>)
    if (range != Range::Any)
      k.check = [member, key, range](const C& c, const std::string& where) { check_range(static_cast<double>(c.*member), range, key, where); };
  return k;
}

// A key whose value is one of an enum's names.
template <class E>
TrainKey choice(const char* name, E C::*member, const Choices<E>& names, const char* help) {
  TrainKey k;
  k.name = name;
  k.type = KeyType::Choice;
  k.choices = names.names();
  k.help = help;
  const std::string key = name;
  k.read = [member, key, &names](C& c, const nlohmann::json& j, const std::string& where) {
    c.*member = names.parse(json::get_string(j, key, where), key, where);
  };
  k.write = [member, &names](const C& c) { return nlohmann::json(names.name(c.*member)); };
  return k;
}

TrainKey device(const char* name, DeviceSpec C::*member, const char* help) {
  TrainKey k;
  k.name = name;
  k.type = KeyType::Device;
  k.help = help;
  const std::string key = name;
  k.read = [member, key](C& c, const nlohmann::json& j, const std::string& where) {
    c.*member = parse_device_spec(json::get_string(j, key, where), key, where);
  };
  k.write = [member](const C& c) { return nlohmann::json((c.*member).text()); };
  return k;
}

// "chat_template": true | false | "auto" | "on" | "off" | a template file; kept as text ("on", "off", ...).
TrainKey chat_template_key() {
  TrainKey k = plain("chat_template", &C::chat_template,
                     "Examples as the model's chat: each prompt a user turn, the answer the assistant's, the loss on the answer "
                     "(true, false, a template file; auto: on when the model has a template, logged and recorded as resolved)");
  k.read = [](C& c, const nlohmann::json& j, const std::string& where) {
    const nlohmann::json& v = j.at("chat_template");
    if (v.is_boolean()) {
      c.chat_template = v.get<bool>() ? "on" : "off";
      return;
    }
    c.chat_template = json::get_string(j, "chat_template", where);
    if (c.chat_template.empty()) throw_bad_input(where, "key \"chat_template\" is empty: give true, false, \"auto\" or a template file");
  };
  return k;
}

TrainKey unwritten(TrainKey k) {
  k.written = false;
  return k;
}

// What is trained, on what.
std::vector<TrainKey> subject_keys() {
  return {
    plain("model_path", &C::model_path, "The base model: a Hugging Face folder (config.json, safetensors, tokenizer); required"),
    plain("data_path", &C::data_path, "Training data: JSON lines {\"input\", \"output\"} or Alpaca JSON; required"),
    chat_template_key(),
    plain("dataset", &C::dataset, "A name for the training data in reports (\"gsm8k\"); informational"),
    plain("output_dir", &C::output_dir, "Adapter and checkpoints go here (with several seeds: one folder per seed, -seedN)"),
    plain("label", &C::label, "The method's name in the forgetting view and reports (\"\": from peft and variant, e.g. IMSM(LoRA)); "
                              "runs with one label are averaged over their seeds"),
    plain("sweep", &C::sweep, "The sweep grid this run is a cell of (\"\": none); set by the run dialog's grid, which labels and groups its cells"),
    plain("seed", &C::seed, "The seed of the initialisation, dropout and data order"),
  };
}

// The method: the PEFT adapter and the IMSM gate.
std::vector<TrainKey> method_keys() {
  return {
    choice("peft", &C::peft, peft_methods(), "The PEFT method IMSM is put on (the paper: LoRA, (IA)³, AdaLoRA, DoRA)"),
    choice("variant", &C::variant, gate_variants(),
           "IMSM's gate: query = the paper's query-aware gate, mixing the original and fine-tuned memories per token and dimension; "
           "no-query = without the query terms; no-gate = a fixed mix (mix_alpha, ½ officially); none = the PEFT method alone"),
    plain("target_modules", &C::target_modules, "The projections the adapter is put on (default: q_proj, v_proj; (IA)³: k_proj, v_proj, down_proj)"),
    plain("feedforward_modules", &C::feedforward_modules, "(IA)³: the modules scaled on their input (default: down_proj when targeted)"),
    plain("layers_to_transform", &C::layers_to_transform,
          "PEFT's key: adapters on these decoder layers only (empty: all); below the lowest, both streams are one computation"),
    plain("lora_r", &C::lora_r, "The adapter's rank r", Range::Positive),
    plain("lora_alpha", &C::lora_alpha, "The adapter's α: its update is scaled by α/r", Range::Positive),
    plain("use_rslora", &C::use_rslora, "rsLoRA: scale the update by α/√r instead of α/r"),
    plain("lora_dropout", &C::lora_dropout, "Dropout on the adapter's input", Range::Probability),
    plain("gate_rank", &C::gate_rank, "r of the gate's low-rank maps gate_A [r, k·d] and gate_B [d, r]", Range::Positive),
    plain("dropout_prob", &C::dropout_prob, "Dropout on both gate maps, as the official code", Range::Probability),
    plain("top_rank", &C::top_rank, "The official mode 3's rank (no mode 3 here): recorded, no effect", Range::Positive),
    plain("mix_alpha", &C::mix_alpha, "Variant no-gate: the fixed mix α·h_M + (1 − α)·h_M' (½: the official mode 0)", Range::Ratio),
    plain("gate_probe_examples", &C::gate_probe_examples,
          "Measure the mean gate on this many probe examples about 50 times a run, spaced to cost ~5% of its time (0: off); "
          "it does not change training",
          Range::NonNegative),
    plain("gate_probe_data", &C::gate_probe_data, "The probe examples: a validation JSON/JSONL file (\"\": the first training examples)"),
  };
}

// The optimisation.
std::vector<TrainKey> optimisation_keys() {
  return {
    choice("optimizer", &C::optimizer, optimizer_kinds(), "adamw (PyTorch's AdamW) or adafactor"),
    plain("learning_rate", &C::learning_rate, "The adapter's peak learning rate", Range::Positive),
    plain("gate_learning_rate", &C::gate_learning_rate,
          "The IMSM gate's own rate, scaled by the schedule as the adapter's (0: the official one, AdamW's default 1e-3; "
          "with Adafactor the learning rate)",
          Range::NonNegative),
    plain("weight_decay", &C::weight_decay, "AdamW's decoupled weight decay", Range::NonNegative),
    plain("momentum", &C::momentum, "The official configs' momentum: recorded, no effect (AdamW's betas are PyTorch's defaults)"),
    choice("lr_schedule", &C::lr_schedule, lr_schedules(), "The rate after warm-up: cosine or linear decay to 0, or constant (none)"),
    plain("num_warmup_ratio", &C::num_warmup_ratio, "The fraction of the steps over which the rate rises from 0", Range::Ratio),
    plain("num_epochs", &C::num_epochs, "Passes over the training data", Range::Positive),
    plain("batch_size", &C::batch_size, "Examples per optimizer step (the global batch with several processes)", Range::Positive),
    plain("accumulation_steps", &C::accumulation_steps, "Micro-batches whose gradients add up to one optimizer step", Range::Positive),
    plain("max_input_length", &C::max_input_length, "An example's prompt is truncated to this many tokens", Range::Positive),
    plain("max_output_length", &C::max_output_length, "An example's answer is truncated to this many tokens, EOS included", Range::Positive),
    plain("max_grad_norm", &C::max_grad_norm, "Clip the gradient's global norm to this (0: no clipping)", Range::NonNegative),
    plain("save_steps", &C::save_steps, "A resumable checkpoint every N optimizer steps (0: at each epoch's end only)", Range::NonNegative),
    plain("resume_from", &C::resume_from, "A checkpoint folder to continue from (imsm runs resume sets it)"),
  };
}

// Where and how it runs.
std::vector<TrainKey> runtime_keys() {
  return {
    device("device", &C::device, "Where the model trains: cpu, cuda or cuda:N"),
    unwritten(plain("data_device", &C::data_device, "The official configs' key: accepted, no effect (batches live on device)")),
    choice("dtype", &C::dtype, precisions(), "The model's dtype: auto (the checkpoint's on CUDA; on CPU bf16 for models of 100M+ parameters where the CPU has bf16 instructions, else f32), f32, bf16, f16"),
    choice("gradient_checkpointing", &C::gradient_checkpointing, checkpointing_modes(),
           "Recompute each decoder layer in the backward instead of keeping its activations: far less memory, ~10% more time "
           "(auto: on on CUDA)"),
    plain("loss_chunk_size", &C::loss_chunk_size,
          "The LM head and the loss only at the scored (answer) positions, this many at a time, never the whole batch's logits "
          "(0: every position's logits at once, the plain path; -1: 1024)"),
    plain("memory_check", &C::memory_check, "Refuse a run whose memory estimate exceeds the device's free memory"),
    plain("memory_cache", &C::memory_cache,
          "IMSM: keep each training example's frozen original stream h_M after its first pass instead of computing it again"),
    choice("memory_cache_dtype", &C::memory_cache_dtype, precisions(), "The kept h_M's dtype (auto: the model's)"),
    plain("memory_cache_mb", &C::memory_cache_mb, "Keep up to N MiB of h_M in memory, the rest in a file beside the run (0: all in the file)",
          Range::NonNegative),
  };
}

// Evaluation during training.
std::vector<TrainKey> evaluation_keys() {
  return {
    plain("test_data_path", &C::test_data_path,
          "A held-out set evaluated during training, as the official loop after each epoch: its loss and its task's metrics; the "
          "best adapter is kept in OUTPUT/best-adapter (\"\": none)"),
    plain("eval_task", &C::eval_task, "The held-out set's task, which names its metrics (\"\": from dataset or the file's path, GSM8K -> gsm8k)"),
    plain("eval_steps", &C::eval_steps, "Also evaluate every N optimizer steps (0: at each epoch's end only)", Range::NonNegative),
    plain("eval_examples", &C::eval_examples, "Evaluate the first N examples of each set (0: all)", Range::NonNegative),
    plain("eval_suite", &C::eval_suite, "A forgetting suite (JSON) evaluated at the same points: each benchmark a curve against the step"),
    plain("best_metric", &C::best_metric, "What makes an adapter the best and what early stopping watches: loss, or a metric of eval_task"),
    plain("early_stopping_patience", &C::early_stopping_patience, "Stop after this many evaluations without a new best (0: never)",
          Range::NonNegative),
  };
}

// AdaLoRA's budget.
std::vector<TrainKey> adalora_keys() {
  return {
    plain("adalora_target_rank", &C::adalora_target_rank, "AdaLoRA: the rank the budget is pruned to (0: two thirds of r, as PEFT's 12 -> 8)",
          Range::NonNegative),
    plain("adalora_allocation", &C::adalora_allocation,
          "AdaLoRA: PEFT's budget allocation and orthogonal regulariser; false: as the official code (the initial rank throughout)"),
    plain("orth_reg_weight", &C::orth_reg_weight, "AdaLoRA: weight of the orthogonality regulariser on P and Q", Range::NonNegative),
    plain("tinit", &C::tinit, "AdaLoRA: warm-up steps before pruning starts (PEFT's tinit)", Range::NonNegative),
    plain("tfinal", &C::tfinal, "AdaLoRA: final steps at the target rank (PEFT's tfinal)", Range::NonNegative),
    plain("deltaT", &C::delta_t, "AdaLoRA: steps between budget updates (PEFT's deltaT)", Range::Positive),
  };
}

// The forgetting baselines, each off at 0.
std::vector<TrainKey> baseline_keys() {
  return {
    plain("replay_data", &C::replay_data, "Replay: general data whose examples fill a fraction of every training batch"),
    plain("replay_ratio", &C::replay_ratio, "Replay: the fraction of each batch drawn from replay_data or the self-synthesized set (0: off)",
          Range::Probability),
    plain("replay_self_examples", &C::replay_self_examples,
          "Self-synthesized rehearsal: replay N prompts the model samples from its own chat template, with its greedy answers, "
          "instead of replay_data (made once, cached beside the run; 0: off)",
          Range::NonNegative),
    plain("ewc_lambda", &C::ewc_lambda, "EWC: λ of λ·Σ F(θ − θ₀)², F the diagonal Fisher of the starting model on ewc_data (0: off)",
          Range::NonNegative),
    plain("ewc_data", &C::ewc_data, "EWC: the general data of the Fisher (computed once at the start)"),
    plain("ewc_examples", &C::ewc_examples, "EWC: the Fisher's sample, the first N examples of ewc_data (at least 16)", Range::Positive),
    plain("kl_lambda", &C::kl_lambda, "KL: λ of λ·KL(p_original ‖ p_tuned) on the answer tokens (0: off)", Range::NonNegative),
  };
}

// The dataset's field names.
std::vector<TrainKey> field_keys() {
  const char* fields = "The dataset's field names: the prompt is instruction + input, the answer is output (Alpaca layout)";
  return {
    plain("input_field", &C::input_field, fields),
    plain("output_field", &C::output_field, fields),
    plain("instruction_field", &C::instruction_field, fields),
  };
}

std::vector<TrainKey> make_keys() {
  std::vector<TrainKey> t;
  for (auto group : {subject_keys, method_keys, optimisation_keys, runtime_keys, evaluation_keys, adalora_keys, baseline_keys, field_keys})
    for (TrainKey& k : group()) t.push_back(std::move(k));
  const C defaults;
  for (TrainKey& k : t) k.default_value = k.write(defaults);
  return t;
}

std::string default_text(const TrainKey& k) {
  if (k.default_value.is_string()) return k.default_value.get<std::string>().empty() ? "\"\"" : k.default_value.get<std::string>();
  if (k.default_value.is_array() && k.default_value.empty()) return "[]";
  if (k.default_value.is_number_float()) {
    std::ostringstream o;
    o << k.default_value.get<double>();
    return o.str();
  }
  return dump(k.default_value);
}

}  // namespace

const std::vector<TrainKey>& train_keys() {
  static const std::vector<TrainKey> table = make_keys();
  return table;
}

const TrainKey* find_train_key(const std::string& name) {
  for (const TrainKey& k : train_keys())
    if (k.name == name) return &k;
  return nullptr;
}

std::string key_type_text(const TrainKey& k) {
  std::string list;
  for (const auto& c : k.choices) list += (list.empty() ? "" : ", ") + c;
  switch (k.type) {
    case KeyType::Text: return "text";
    case KeyType::Boolean: return "true or false";
    case KeyType::Choice: return "one of " + list;
    case KeyType::Device: return "cpu, cuda or cuda:N";
    case KeyType::Modules: return "a list of " + list;
    case KeyType::Layers: return "a list of layer indices";
    case KeyType::Integer:
    case KeyType::Number: {
      const std::string what = k.type == KeyType::Integer ? "integer" : "number";
      switch (k.range) {
        case Range::Positive: return what + (k.type == KeyType::Integer ? " >= 1" : " > 0");
        case Range::NonNegative: return what + " >= 0";
        case Range::Probability: return what + " in [0, 1)";
        case Range::Ratio: return what + " in [0, 1]";
        case Range::Any: return what;
      }
    }
  }
  return "";
}

std::string format_train_keys() {
  std::ostringstream o;
  for (const TrainKey& k : train_keys())
    o << k.name << "  (" << key_type_text(k) << "; default " << default_text(k) << ")\n    " << k.help << "\n";
  return o.str();
}

}  // namespace imsm
