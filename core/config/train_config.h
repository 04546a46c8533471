// The configuration of `imsm train`: the official IMSM config.json keys as
// they are, plus this project's own (torch-free). Read once, here, into typed
// settings: everything after the parser switches on enums, never on text.
// Each key's name, type, choices, range, default and help are one row of
// train_keys() (config/train_keys.cpp), which the parser, to_json,
// `imsm train --help-keys`, docs/CLI.md and the run dialog all read.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imsm/gate_config.h"
#include "model/device_spec.h"
#include "peft/peft_config.h"
#include "train/train_settings.h"

namespace imsm {

// The smallest general-data sample EWC estimates its Fisher from.
constexpr int64_t kMinEwcExamples = 16;

struct TrainConfig {
  // Official keys.
  std::string model_path;
  std::string dataset;            // a name for the run ("gsm8k"); informational
  std::string data_path;          // training data (JSON lines or Alpaca JSON)
  std::string test_data_path;     // the held-out set, evaluated during training (recipes/validation.h); "": none
  int64_t max_input_length = 512;
  int64_t max_output_length = 512;
  DeviceSpec device;              // cpu | cuda | cuda:N
  std::string data_device;        // accepted for compatibility; batches live on `device`
  PeftMethod peft = PeftMethod::LoRA;
  int64_t lora_r = 16;
  double lora_alpha = 16;
  double lora_dropout = 0.05;
  int64_t gate_rank = 8;
  int64_t top_rank = 8;           // official mode 3's rank of linear_top_A/B over [h_M ⊕ h_M']; no mode 3 here: recorded, no effect
  double dropout_prob = 0.1;
  int64_t num_epochs = 3;
  int64_t batch_size = 4;
  int64_t accumulation_steps = 1;
  OptimizerKind optimizer = OptimizerKind::AdamW;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double learning_rate = 3e-4;
  double gate_learning_rate = 0;  // the gate's own rate (0: as the official optimizer: 1e-3 with AdamW, learning_rate with Adafactor)
  LrSchedule lr_schedule = LrSchedule::Cosine;
  double num_warmup_ratio = 0.0;
  // This project's keys.
  GateVariant variant = GateVariant::Query;  // official "mode": 5 | 2 | 0 = query | no-query | no-gate
  std::vector<std::string> target_modules;  // default per method (LoRA: q_proj, v_proj; (IA)³: k_proj, v_proj, down_proj)
  std::vector<std::string> feedforward_modules;  // (IA)³; default: down_proj when targeted
  bool use_rslora = false;
  uint64_t seed = 42;
  std::string output_dir = "runs/imsm";
  Precision dtype = Precision::Auto;
  int64_t save_steps = 0;         // 0: checkpoints at epoch ends only
  int64_t gate_probe_examples = 8;  // IMSM: the mean gate on the first N probe examples, ~50 times a run within ~5% of its time (0: off)
  std::string gate_probe_data;      // the probe examples: a validation JSON/JSONL file ("": the training data)
  std::string label;                // the method's name in reports and tables ("": from peft and variant, e.g. IMSM(LoRA))
  std::string sweep;                // the sweep grid this run is a cell of ("": none; config/sweep_grid.h)
  // Evaluation during training (recipes/validation.h).
  std::string eval_task;            // the held-out set's task (metrics); "": named by `dataset` or test_data_path (GSM8K -> gsm8k)
  int64_t eval_steps = 0;           // also every N optimizer steps (0: at each epoch's end only, as the official loop)
  int64_t eval_examples = 0;        // the first N examples of each set (0: all)
  std::string eval_suite;           // a forgetting suite (JSON) evaluated at the same points ("": none)
  std::string best_metric = "loss";  // the criterion of the best adapter and early stopping: "loss" or a metric of eval_task
  int64_t early_stopping_patience = 0;  // stop after N evaluations without a new best (0: never)
  std::string resume_from;
  double max_grad_norm = 1.0;
  Checkpointing gradient_checkpointing = Checkpointing::Auto;  // recompute each decoder layer in the backward (auto: on CUDA)
  bool memory_check = true;       // refuse a run whose memory estimate exceeds the device's free memory (recipes/memory_check.h)
  int64_t loss_chunk_size = -1;  // the LM head and loss at scored positions, N at a time (0: every position at once; -1: 1024)
  std::string input_field = "input", output_field = "output", instruction_field = "instruction";  // dataset fields
  std::string chat_template = "auto";  // auto | on | off | a template file (recipes/chat_format.h)
  int64_t tinit = 0, tfinal = 0, delta_t = 1;  // AdaLoRA's schedule (PEFT: tinit, tfinal, deltaT)
  double orth_reg_weight = 0.5;                // AdaLoRA
  int64_t adalora_target_rank = 0;  // AdaLoRA's average rank at the end (0: 2/3 of lora_r, PEFT's init_r 12 -> target_r 8)
  bool adalora_allocation = true;   // false: as the official code, no rank allocation and no orthogonal regulariser
  // Forgetting baselines (each off at 0; with any PEFT method and variant).
  std::string replay_data;          // general data replayed in every batch (the formats of data_path)
  double replay_ratio = 0;          // the fraction of each batch drawn from replay_data, in [0, 1) (train/replay.h)
  int64_t replay_self_examples = 0; // self-synthesized rehearsal: replay N of the model's own prompts and answers instead (recipes/self_rehearsal.h)
  double ewc_lambda = 0;            // EWC: + λ·Σ F(θ − θ₀)², F the diagonal Fisher at the start on ewc_data (train/ewc.h)
  std::string ewc_data;             // the Fisher's general data
  int64_t ewc_examples = 64;        // the Fisher's sample: the first N examples of ewc_data (at least kMinEwcExamples)
  double kl_lambda = 0;             // + λ·KL(p_original ‖ p_tuned) on the answer tokens (train/kl_penalty.h)
  double mix_alpha = 0.5;           // variant no-gate: h = α·h_M + (1 − α)·h_M' (½: the official mode 0)
  // Speed (train/memory_cache.h, imsm/siamese.h).
  bool memory_cache = true;               // the frozen original stream's h_M kept per training example after its first pass
  Precision memory_cache_dtype = Precision::Auto;  // auto: the model's dtype
  int64_t memory_cache_mb = 2048;         // kept in memory up to N MiB, the rest in a file beside the run (0: all in the file)
  std::vector<int64_t> layers_to_transform;  // PEFT: adapters on these decoder layers only (empty: all); below the lowest, both streams are one computation

  nlohmann::json to_json() const;  // the fully resolved configuration
};

// What a number must be.
enum class Range { Any, Positive, NonNegative, Probability /* [0, 1) */, Ratio /* [0, 1] */ };
enum class KeyType { Text, Integer, Number, Boolean, Choice, Device, Modules, Layers };

// One key of a training configuration.
struct TrainKey {
  std::string name;
  KeyType type = KeyType::Text;
  std::vector<std::string> choices;  // Choice: the written names; Modules: the module names
  Range range = Range::Any;          // Integer, Number
  std::string help;                  // one line
  bool written = true;               // to_json writes it (data_device is read for compatibility, never written)
  nlohmann::json default_value;      // its value in a default-constructed TrainConfig
  // Sets the member from the configuration object `j`, which holds the key with a value other than null.
  std::function<void(TrainConfig&, const nlohmann::json& j, const std::string& where)> read;
  std::function<nlohmann::json(const TrainConfig&)> write;
  std::function<void(const TrainConfig&, const std::string& where)> check;  // the range; null: nothing to check
};

// Every key, in the order the documentation lists them.
const std::vector<TrainKey>& train_keys();
const TrainKey* find_train_key(const std::string& name);
// "integer >= 1", "one of lora, dora, ia3, adalora", "number in [0, 1)", ...
std::string key_type_text(const TrainKey& key);
// The table as `imsm train --help-keys` prints it: per key its name, type, default and help.
std::string format_train_keys();

// Every key is checked: an unknown key, a wrong type or a bad value is a
// BadInput error naming `where` and the key.
TrainConfig parse_train_config(const nlohmann::json& j, const std::string& where);

// The PEFT method's settings of a run (PEFT's adapter_config.json keys).
PeftConfig peft_config(const TrainConfig& c);
// loss_chunk_size as a run uses it: -1 is 1024 positions on every device (an
// answer is a few tokens of a row: the head's matmul at the scored positions
// only is the cheap path on a CPU as on a GPU, issue 34); 0 the plain path.
int64_t loss_chunk_of(const TrainConfig& c);
// Reads FILE.json and applies "key=value" overrides (value: JSON, else a string).
TrainConfig read_train_config(const std::string& path, const std::vector<std::string>& overrides);

// One configuration per seed of `seeds` ("1, 2 3": commas or spaces between
// non-negative whole numbers); with several seeds each run writes to
// OUTPUT_DIR-seedN. BadInput on the key "seed", or as parse_train_config.
std::vector<TrainConfig> expand_seeds(const nlohmann::json& config, const std::string& seeds, const std::string& where);

// The first input file of `c` that is not there, as "key: problem"
// (model_path without config.json, data_path, gate_probe_data), or "" when
// all are; `made_later(path)` true: something writes that file before the
// run starts (a project's data).
std::string missing_input(const TrainConfig& c, const std::function<bool(const std::string&)>& made_later = {});

}  // namespace imsm
