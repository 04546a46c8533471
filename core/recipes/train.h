// Recipe: fine-tune a model with a PEFT method and IMSM on top (or the PEFT
// method alone, variant none), with checkpoints and resume.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/train_config.h"
#include "recipes/chat_format.h"
#include "train/dataset.h"
#include "util/run_protocol.h"

namespace imsm {

struct TrainSummary {
  RunStatus status = RunStatus::Finished;  // finished | diverged (cancel throws, see below)
  int64_t steps = 0, total_steps = 0;
  std::vector<double> losses;    // per optimizer step, from the run's start (resumed runs included)
  std::string adapter_dir;       // OUTPUT/adapter: the (IMSM) adapter
  std::string last_checkpoint;   // OUTPUT/checkpoint-STEP, "" when none was written
  // Evaluation during training (recipes/validation.h).
  std::string best_adapter_dir;  // OUTPUT/best-adapter: the adapter at the criterion's best ("" when nothing was evaluated)
  int64_t best_step = 0;
  double best_value = 0;         // the criterion there (best_metric of the held-out set)
  bool stopped_early = false;    // early stopping ended the run before total_steps
  int64_t trainable_parameters = 0;
  int64_t examples = 0;
  // Memory (recipes/memory_check.h): the estimate of the step's peak, and what the run measured of it:
  // on CPU the process's peak resident set minus what it held before the model; on CUDA the allocator's peak.
  double memory_estimate_bytes = 0;
  double memory_peak_bytes = -1;  // -1: not measured
  double seconds = 0;
};

// Writes OUTPUT/checkpoint-STEP/ (adapter, gate, optimizer, RNG, position) at
// epoch ends, every save_steps steps and on cancel; OUTPUT/adapter/ and
// OUTPUT/train_config.json when finished. With a held-out set or an
// evaluation suite (recipes/validation.h) it evaluates them at each epoch's
// end and every eval_steps steps, keeps OUTPUT/best-adapter/ (with best.json:
// step, metric, value) and stops early when asked. Hooks: a StepRecord per
// optimizer step (with the gate probe's mean where measured), a Checkpoint
// event after each checkpoint written, a Validation event per score and a
// BestAdapter event per new best; cancel (the run protocol): a checkpoint,
// then Error(Cancelled) "training stopped at step N of M".
TrainSummary run_train(const TrainConfig& config, const Hooks& hooks = {});

class Tokenizer;
struct ModelConfig;
// How a run encodes its examples: its chat format ("chat_template" resolved
// for model_path), the token that ends every answer (the tokenizer's first
// end-of-sequence id, else the model config's, else -1: none) and the tokens
// that end a turn (config.json's EOS ids, then the tokenizer's).
struct ExampleEncoding {
  ChatFormat chat;
  int32_t eos = -1;
  std::vector<int32_t> stops;
};
ExampleEncoding example_encoding(const TrainConfig& config, const Tokenizer& tokenizer, const ModelConfig& model);
// The same before the model loads: model_path's config.json when it has one
// (a folder with only a tokenizer: no EOS ids of its own).
ExampleEncoding example_encoding(const TrainConfig& config, const Tokenizer& tokenizer);

// The first `limit` examples of `path` (0: all) as a run reads and encodes
// them: the configuration's fields, max_input_length and max_output_length,
// in the chat format or the official one (recipes/chat_format.h). BadInput
// naming the file.
std::vector<EncodedExample> encode_training_file(const std::string& path, const TrainConfig& config, const Tokenizer& tokenizer,
                                                 const ExampleEncoding& encoding, int64_t limit = 0);

}  // namespace imsm
