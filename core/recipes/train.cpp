#include "recipes/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "dist/launch.h"
#include "dist/process_group.h"
#include "imsm/gate.h"
#include "io/atomic_dir.h"
#include "io/json_file.h"
#include "model/cuda_device.h"
#include "model/device.h"
#include "model/generate.h"
#include "model/llama.h"
#include "peft/peft_model.h"
#include "recipes/loaded_model.h"
#include "recipes/memory_check.h"
#include "recipes/self_rehearsal.h"
#include "recipes/validation.h"
#include "tokenizer/tokenizer.h"
#include "train/ewc.h"
#include "train/gate_probe.h"
#include "train/memory_cache.h"
#include "train/replay.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/hash64.h"
#include "util/log.h"
#include "util/process.h"
#include "util/sha256.h"
#include "views/run_table.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

// A checkpoint folder, or the newest checkpoint-STEP inside an output folder.
std::string find_checkpoint(const std::string& path) {
  if (fs::exists(fs::path(path) / "trainer_state.json")) return path;
  std::string best;
  int64_t best_step = -1;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("checkpoint-", 0) != 0 || name.find('.') != std::string::npos) continue;
      if (!fs::exists(e.path() / "trainer_state.json")) continue;
      const int64_t step = std::stoll(name.substr(11));
      if (step > best_step) {
        best_step = step;
        best = e.path().string();
      }
    }
  }
  if (best.empty()) throw_bad_input(path, "resume_from: no checkpoint here (expected trainer_state.json or checkpoint-STEP folders)");
  return best;
}

// The training examples and the gate probe's (read before anything is
// written: a bad file stops the run here). probe: the probe file's first
// gate_probe_examples, empty when the probe uses the training examples.
struct TrainingData {
  std::vector<EncodedExample> train, probe;
  size_t task_examples = 0;          // train[0, task_examples): the task; after them the replayed general data
  std::vector<EncodedExample> ewc;   // EWC's Fisher sample
  ChatFormat chat;                   // how they were encoded
};

TrainingData read_training_data(const TrainConfig& c, const Tokenizer& tokenizer, const LlamaModel& model, bool writer,
                                const Hooks& hooks) {
  const ExampleEncoding encoding = example_encoding(c, tokenizer, model.config());
  TrainingData d;
  d.chat = encoding.chat;
  d.train = encode_training_file(c.data_path, c, tokenizer, encoding);
  d.task_examples = d.train.size();
  if (!c.gate_probe_data.empty() && c.gate_probe_examples > 0)
    d.probe = encode_training_file(c.gate_probe_data, c, tokenizer, encoding, c.gate_probe_examples);
  if (c.replay_ratio > 0) {
    const std::string replayed = c.replay_self_examples > 0  // the model's own, before any adapter is attached
                                     ? self_rehearsal_for_run(c, model, tokenizer, encoding.chat, encoding.stops, writer, hooks)
                                     : c.replay_data;
    auto replay = encode_training_file(replayed, c, tokenizer, encoding);
    if (replay.empty()) throw_bad_input(replayed, "replay_data holds no examples");
    d.train.insert(d.train.end(), std::make_move_iterator(replay.begin()), std::make_move_iterator(replay.end()));
  }
  if (c.ewc_lambda > 0) {
    d.ewc = encode_training_file(c.ewc_data, c, tokenizer, encoding, c.ewc_examples);
    if (static_cast<int64_t>(d.ewc.size()) < c.ewc_examples)
      throw_bad_input(c.ewc_data, "holds " + std::to_string(d.ewc.size()) + " examples; EWC's Fisher was asked for ewc_examples = " +
                                      std::to_string(c.ewc_examples) + " (at least " + std::to_string(kMinEwcExamples) +
                                      "): lower ewc_examples or give more general data");
  }
  return d;
}

// The IMSM gate: new (seeded), or the checkpoint's; null for the variant none.
std::unique_ptr<ImsmGate> open_gate(const TrainConfig& c, const LlamaModel& model, const std::string& resume) {
  if (c.variant == GateVariant::None) return nullptr;
  if (!resume.empty()) return ImsmGate::load(resume, model.device(), gate_dtype(model.dtype()));
  GateConfig gc;
  gc.variant = c.variant;
  gc.rank = c.gate_rank;
  gc.hidden_size = model.config().hidden_size;
  gc.dropout = c.dropout_prob;
  gc.alpha = c.mix_alpha;
  return std::make_unique<ImsmGate>(gc, model.device(), gate_dtype(model.dtype()), c.seed + 1);
}

TrainOptions train_options(const TrainConfig& c) {
  TrainOptions o;
  o.num_epochs = c.num_epochs;
  o.batch_size = c.batch_size;
  o.accumulation_steps = c.accumulation_steps;
  o.learning_rate = c.learning_rate;
  o.weight_decay = c.weight_decay;
  o.max_grad_norm = c.max_grad_norm;
  o.warmup_ratio = c.num_warmup_ratio;
  o.lr_schedule = c.lr_schedule;
  o.optimizer = c.optimizer;
  o.seed = c.seed;
  return o;
}

// What EWC's anchor is computed from: a cached anchor with another key is computed again.
std::string ewc_key(const TrainConfig& c) {
  const nlohmann::json all = c.to_json();
  nlohmann::json key = {{"ewc_data_sha256", sha256_file(c.ewc_data)}};
  for (const char* k : {"model_path", "ewc_data", "ewc_examples", "peft", "lora_r", "lora_alpha", "use_rslora", "target_modules",
                        "feedforward_modules", "variant", "gate_rank", "mix_alpha", "seed", "max_input_length", "max_output_length", "dtype",
                        "input_field", "output_field", "instruction_field", "adalora_target_rank"})
    key[k] = all.at(k);
  return key.dump();
}

// EWC's F and θ₀: read from OUTPUT/ewc_fisher.safetensors when it was
// computed from the same inputs, else computed at the start (written by the
// writer); a resumed run must find it, its start being long gone.
std::unique_ptr<EwcAnchor> ewc_anchor(const TrainConfig& c, SiameseTarget& target, const TrainingData& d, bool resuming,
                                      bool writer, const Hooks& hooks) {
  if (c.ewc_lambda <= 0) return nullptr;
  const std::string path = (fs::path(c.output_dir) / "ewc_fisher.safetensors").string();
  const std::string key = ewc_key(c);
  auto anchor = std::make_unique<EwcAnchor>();
  if (load_anchor(path, key, target.parameters(), *anchor)) {
    if (writer) log::info("EWC: the Fisher of " + std::to_string(anchor->examples) + " examples read from " + path);
  } else {
    if (resuming) throw_bad_input(path, "missing or computed from other inputs: EWC cannot resume without the Fisher and start of its run");
    target.set_training(false);  // dropout off
    *anchor = estimate_fisher(target.parameters(), [&](const TrainBatch& b) { return target.answer_nll(b); }, d.ewc, target.device(), hooks);
    if (writer) {
      fs::create_directories(c.output_dir);
      save_anchor(*anchor, path, key);
    }
  }
  for (auto* list : {&anchor->fisher, &anchor->start})
    for (auto& [name, t] : *list) t = t.to(target.device());
  return anchor;
}

// The frozen-memory cache of a run whose loss reads the original stream (IMSM's
// gate, the KL penalty): in memory up to memory_cache_mb, every row also in a
// file beside the run's folder, shared with the runs beside it over the same
// base model (a seed matrix, a sweep). Null when off or nothing reads it.
std::unique_ptr<FrozenMemoryCache> memory_cache(const TrainConfig& c, const LlamaModel& model, bool reads_original,
                                                const dist::Launch& launch) {
  if (!c.memory_cache || !reads_original) return nullptr;
  MemoryCacheOptions options;
  options.dtype = scalar_type(c.memory_cache_dtype, model.dtype());
  options.memory_bytes = c.memory_cache_mb << 20;
  const std::string fingerprint = model_fingerprint(model);
  Hash64 key;
  key.add(fingerprint);
  const std::string name = "original-memory-" + key.hex() + "-" + precisions().name(c.memory_cache_dtype) + (launch.distributed() ? "-rank" + std::to_string(launch.rank) : "") + ".bin";
  options.file = (fs::absolute(c.output_dir).parent_path() / ".imsm-cache" / name).string();
  return std::make_unique<FrozenMemoryCache>(fingerprint, model.config().hidden_size, options);
}

// The gate probe: the first probe examples as one batch; undefined ids when
// there is nothing to probe (no trainable gate, no examples).
TrainBatch probe_batch(const TrainConfig& c, const ImsmGate* gate, const TrainingData& d, torch::Device device) {
  const std::vector<EncodedExample>& source = c.gate_probe_data.empty() ? d.train : d.probe;
  if (!gate || !gate->trainable() || c.gate_probe_examples <= 0 || source.empty()) return {};
  std::vector<const EncodedExample*> rows;
  for (size_t i = 0; i < source.size() && static_cast<int64_t>(i) < c.gate_probe_examples; ++i) rows.push_back(&source[i]);
  return collate(rows, device);
}

// One process's part of a training run: its model and data, and the adapters and gate it trains (new, or
// the checkpoint's it resumes from).
struct RunModel {
  std::unique_ptr<LoadedModel> loaded;
  std::unique_ptr<dist::ProcessGroup> group;  // null on one process
  bool writer = true;                         // rank 0 (or the only process): writes the files and reports
  TrainingData data;
  std::string resume;                         // the checkpoint folder it resumes from; "" for a new run
  std::unique_ptr<PeftAdapters> adapters;
  std::unique_ptr<ImsmGate> gate;             // null for the variant none
  LlamaModel& model() const { return *loaded->model; }
  // The adapter and the gate into `dir`; resize: AdaLoRA's matrices cut to their kept ranks (false: whole, to train on).
  void save(const std::string& dir, bool resize) const {
    adapters->save(dir, resize);
    if (gate) gate->save(dir);
  }
};

RunModel open_run_model(const TrainConfig& c, const dist::Launch& launch, const Hooks& hooks) {
  RunModel m;
  m.loaded = load_model(on_this_process({c.model_path, "", c.device, c.dtype}));  // adapters below: new, or the checkpoint's
  m.group = launch.distributed() ? dist::ProcessGroup::join(launch, m.model().device(), dist::collective_timeout()) : nullptr;
  m.writer = launch.writer();
  m.data = read_training_data(c, *m.loaded->tokenizer, m.model(), m.writer, hooks);
  if (m.writer) log::info(describe_chat_format(m.data.chat, "chat_template"));
  m.resume = c.resume_from.empty() ? "" : find_checkpoint(c.resume_from);
  m.adapters = m.resume.empty() ? PeftAdapters::attach(m.model(), peft_config(c), c.seed) : PeftAdapters::load(m.model(), m.resume);
  m.gate = open_gate(c, m.model(), m.resume);
  // Memory for large models: one decoder layer's activations at a time (on CUDA by default).
  m.model().set_gradient_checkpointing(checkpoints_layers(c.gradient_checkpointing, m.model().device().is_cuda()));
  return m;
}

const char* kStoppingFile = "early_stopping.json";

// The trainer's and early stopping's state back from the checkpoint the run resumes from.
void resume_state(Trainer& trainer, EarlyStopping& stopping, const RunModel& m) {
  trainer.load_state(m.resume);
  const fs::path state = fs::path(m.resume) / kStoppingFile;
  if (fs::exists(state)) stopping.load_state(json::read_file(state.string()), state.string());
  if (m.writer)
    log::info("resuming from " + m.resume + " at step " + std::to_string(trainer.step()) + " of " + std::to_string(trainer.total_steps()));
}

// A resumable checkpoint: the whole adapters, the trainer's and early stopping's state, in OUTPUT/checkpoint-STEP,
// announced as an event; `last` names it (on every rank, written by rank 0).
std::function<void(const Trainer&)> checkpoint_writer(const TrainConfig& c, const RunModel& m, const ValidationPlan& plan,
                                                      const EarlyStopping& stopping, std::string& last, const Hooks& hooks) {
  return [&c, &m, &plan, &stopping, &last, &hooks](const Trainer& t) {
    const std::string dir = (fs::path(c.output_dir) / ("checkpoint-" + std::to_string(t.step()))).string();
    last = dir;
    if (!m.writer) return;
    write_dir_atomically(dir, [&](const std::string& tmp) {
      m.save(tmp, false);  // whole tensors: training goes on from here
      t.save_state(tmp);
      if (!plan.empty()) json::write_file((fs::path(tmp) / kStoppingFile).string(), stopping.state());
    });
    hooks.event({RunEvent::Kind::Checkpoint, 0, dir, t.step()});
  };
}

// Steps between gate probes: ~50 probes a run, and no more often than keeps
// their cost near 5% of the training's. A probe is one forward of
// gate_probe_examples rows, a step a forward and a backward (about 3 forwards)
// of batch_size rows: a probe costs about examples / (3 × batch_size) steps.
int64_t probe_spacing(const TrainConfig& c, int64_t total_steps) {
  const double step_fraction = static_cast<double>(c.gate_probe_examples) / (3.0 * static_cast<double>(c.batch_size));
  const auto budget = static_cast<int64_t>(std::ceil(step_fraction / 0.05));
  return std::max<int64_t>({1, total_steps / 50, budget});
}

// `hooks` with the gate probe's mean joining the step record (query and no-query gates, rank 0), spaced by
// probe_spacing and at the last step; its mean per hidden dimension goes to OUTPUT/gate_probes.jsonl, a line
// per probe (a resumed run appends: the last line of a step counts).
Hooks with_gate_probe(const Hooks& hooks, const TrainConfig& c, const RunModel& m, int64_t total_steps) {
  struct Probe {
    TrainBatch batch;
    int64_t every = 1;
    std::ofstream lines;
  };
  auto probe = std::make_shared<Probe>();
  probe->batch = m.writer ? probe_batch(c, m.gate.get(), m.data, m.model().device()) : TrainBatch{};
  if (!probe->batch.ids.defined()) return hooks;
  probe->every = probe_spacing(c, total_steps);
  probe->lines.open(fs::path(c.output_dir) / kGateProbesFile, std::ios::app);
  Hooks h = hooks;
  h.on_step = [hooks, probe, &m](StepRecord r) {
    if (r.step % probe->every == 0 || r.step == r.total_steps) {
      const GateProbe g = probe_gate(m.model(), *m.adapters, *m.gate, probe->batch);
      r.gate_mean = g.mean;
      if (!g.per_dim.empty()) probe->lines << nlohmann::json{{"step", r.step}, {"gate", g.per_dim}}.dump() << "\n" << std::flush;
    }
    hooks.step(r);
  };
  return h;
}

// Evaluation during training: each score an event, the best adapter kept in `best_dir`, early stopping.
EvalSchedule eval_schedule(const ValidationPlan& plan, const RunModel& m, EarlyStopping& stopping, const std::string& best_dir,
                           const Hooks& hooks) {
  EvalSchedule schedule;
  schedule.every_steps = plan.every_steps;
  if (plan.empty()) return schedule;
  schedule.evaluate = [&plan, &m, &stopping, &best_dir, &hooks](const Trainer& t) {
    const auto records = validate(plan, m.model(), *m.loaded->tokenizer, m.gate.get(), m.group.get(), t.step(), t.epoch(), hooks);
    for (const ValidationRecord& r : records) {
      RunEvent e;
      e.kind = RunEvent::Kind::Validation;
      e.validation = r;
      if (m.writer) hooks.event(e);
    }
    if (stopping.observe(records) && m.writer) {
      write_dir_atomically(best_dir, [&](const std::string& tmp) {
        m.save(tmp, true);
        json::write_file((fs::path(tmp) / "best.json").string(),
                         {{"step", stopping.best_step()}, {"metric", plan.best_metric}, {"value", stopping.best_value()}});
      });
      hooks.event({RunEvent::Kind::BestAdapter, 0, best_dir, t.step()});
    }
    return stopping.should_stop();
  };
  return schedule;
}

// The trainer to its end; a cancel leaves a checkpoint to resume from and says where.
TrainOutcome train_to_the_end(Trainer& trainer, const Hooks& hooks, const std::function<void(const Trainer&)>& checkpoint,
                              int64_t save_steps, const EvalSchedule& schedule, const std::string& last_checkpoint) {
  try {
    return trainer.run(hooks, checkpoint, save_steps, schedule);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) throw;
    checkpoint(trainer);  // resumable from where it stopped
    throw Error(ErrorKind::Cancelled, "training stopped at step " + std::to_string(trainer.step()) + " of " +
                                          std::to_string(trainer.total_steps()) + "; checkpoint " + last_checkpoint);
  }
}

// The adapter of a finished run (and its configuration) in OUTPUT, and what the run did into `s`.
void finish(TrainSummary& s, const TrainOutcome& outcome, const Trainer& trainer, const EarlyStopping& stopping, const RunModel& m,
            const TrainConfig& c, const std::string& best_dir) {
  s.status = outcome.status;
  s.steps = outcome.steps;
  s.total_steps = trainer.total_steps();
  s.losses = outcome.losses;
  s.trainable_parameters = m.adapters->num_parameters() + (m.gate ? m.gate->num_parameters() : 0);
  s.examples = static_cast<int64_t>(m.data.task_examples);
  s.stopped_early = outcome.stopped_early;
  if (stopping.best_step() > 0) {
    s.best_adapter_dir = best_dir;
    s.best_step = stopping.best_step();
    s.best_value = stopping.best_value();
  }
  if (outcome.status != RunStatus::Finished) return;
  s.adapter_dir = (fs::path(c.output_dir) / "adapter").string();
  if (!m.writer) return;
  write_dir_atomically(s.adapter_dir, [&](const std::string& tmp) { m.save(tmp, true); });
  TrainConfig written = c;
  written.chat_template = resolved_chat_key(m.data.chat);  // what "auto" became
  json::write_file((fs::path(c.output_dir) / "train_config.json").string(), written.to_json());
}

}  // namespace

namespace {

// The token that ends every training answer: the tokenizer's first EOS id, else the model config's, else -1.
int32_t training_eos(const Tokenizer& tokenizer, const ModelConfig& model) {
  if (!tokenizer.eos_ids().empty()) return tokenizer.eos_ids()[0];
  return model.eos_token_ids.empty() ? -1 : static_cast<int32_t>(model.eos_token_ids[0]);
}

}  // namespace

ExampleEncoding example_encoding(const TrainConfig& c, const Tokenizer& tokenizer, const ModelConfig& model) {
  ExampleEncoding e;
  e.chat = resolve_chat_format(c.chat_template, c.model_path, "chat_template");
  e.eos = training_eos(tokenizer, model);
  e.stops = stop_ids(model, tokenizer.eos_ids());
  return e;
}

std::vector<EncodedExample> encode_training_file(const std::string& path, const TrainConfig& c, const Tokenizer& tokenizer,
                                                 const ExampleEncoding& encoding, int64_t limit) {
  DatasetFields fields;
  fields.input = c.input_field;
  fields.output = c.output_field;
  fields.instruction = c.instruction_field;
  std::vector<EncodedExample> out;
  for (const auto& e : read_examples(path, fields)) {
    if (limit > 0 && static_cast<int64_t>(out.size()) == limit) break;
    out.push_back(encode_for_training(encoding.chat, tokenizer, e, c.max_input_length, c.max_output_length, encoding.eos, encoding.stops));
  }
  return out;
}

ExampleEncoding example_encoding(const TrainConfig& c, const Tokenizer& tokenizer) {
  const fs::path config = fs::path(c.model_path) / "config.json";
  return example_encoding(c, tokenizer, fs::is_regular_file(config) ? read_model_config(config.string()) : ModelConfig{});
}

TrainSummary run_train(const TrainConfig& c, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  ValidationPlan plan = validation_plan(c);  // a bad key fails before the model loads
  // A run that cannot fit is refused before it allocates anything (memory_check false: the estimate alone).
  const MemoryCheck memory = check_memory(c, c.memory_check, training_row_lengths(c));
  if (!memory.fits()) throw_bad_input("memory_check", memory_refusal(memory));
  const int64_t resident_before_model = resident_bytes();
  const dist::Launch launch = dist::launch_from_environment();  // started by torchrun: one rank of a data-parallel run
  const RunModel m = open_run_model(c, launch, hooks);
  plan.chat = m.data.chat;  // validation prompts as the training's

  const int64_t loss_chunk = loss_chunk_of(c);
  SiameseTarget target(m.model(), *m.adapters, m.gate.get(), c.gate_learning_rate / c.learning_rate, loss_chunk);
  const std::unique_ptr<EwcAnchor> ewc = ewc_anchor(c, target, m.data, !m.resume.empty(), m.writer, hooks);  // at the start, dropout off
  target.set_penalties({c.kl_lambda, c.ewc_lambda, ewc.get()});
  const auto frozen = memory_cache(c, m.model(), m.gate != nullptr || c.kl_lambda > 0, launch);  // after EWC's Fisher: its data is not the run's
  target.set_memory_cache(frozen.get());
  TrainOptions options = train_options(c);
  if (c.replay_ratio > 0) options.replay = {m.data.task_examples, replay_rows(c.replay_ratio, c.batch_size)};
  Trainer trainer(target, m.data.train, options, m.group.get());
  EarlyStopping stopping(plan);
  if (!m.resume.empty()) resume_state(trainer, stopping, m);

  if (m.writer) fs::create_directories(c.output_dir);
  TrainSummary summary;
  const auto checkpoint = checkpoint_writer(c, m, plan, stopping, summary.last_checkpoint, hooks);
  const std::string best_dir = (fs::path(c.output_dir) / "best-adapter").string();
  const TrainOutcome outcome = train_to_the_end(trainer, with_gate_probe(hooks, c, m, trainer.total_steps()), checkpoint, c.save_steps,
                                                eval_schedule(plan, m, stopping, best_dir, hooks), summary.last_checkpoint);
  if (frozen && m.writer) log::info(describe(frozen->stats()));
  finish(summary, outcome, trainer, stopping, m, c, best_dir);

  summary.memory_estimate_bytes = memory.estimate.peak_bytes();
  const auto cuda_index = c.device.cuda_index();
  const int64_t peak = cuda_index ? cuda_peak_allocated_bytes(*cuda_index) : peak_resident_bytes() - resident_before_model;
  if (peak > 0 && (cuda_index || resident_before_model > 0)) summary.memory_peak_bytes = static_cast<double>(peak);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace imsm
