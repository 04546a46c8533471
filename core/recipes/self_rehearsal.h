// Recipe component: self-synthesized rehearsal, a replay baseline that needs
// no data the user does not have (after Huang et al., ACL 2024, "Mitigating
// Catastrophic Forgetting in Large Language Models with Self-Synthesized
// Rehearsal"). The model about to be tuned writes its own rehearsal set:
//   1. prompts: sampled (temperature, top-p) from the opening of a user's
//      turn in its chat template, up to the template's end of turn, as
//      Magpie (Xu et al., 2024) draws instructions from an aligned model;
//      without a template, from the tokenizer's start of text to EOS;
//   2. answers: its greedy answer to each prompt, rendered as evaluation
//      renders a prompt (recipes/chat_format.h).
// Training replays them as replay_data (train/replay.h): the tuned model is
// kept close to what the base model itself says, not to a corpus.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "config/model_source.h"
#include "config/train_config.h"
#include "recipes/chat_format.h"
#include "util/run_protocol.h"

namespace imsm {

class LlamaModel;
class Tokenizer;

struct RehearsalOptions {
  int64_t examples = 0;            // records wanted
  int64_t max_prompt_tokens = 64;  // a sampled prompt that has not ended by then is dropped (chat) or cut (no template)
  int64_t max_answer_tokens = 64;  // the greedy answer's limit (its end of turn included)
  double temperature = 1.0;        // the prompts' sampling
  double top_p = 0.95;
  uint64_t seed = 0;               // prompt row r of draw k samples with seed + k·batch + r
  int64_t batch_size = 32;
  int64_t max_input_length = 512;  // the answers' prompts, as a run encodes them
};

struct RehearsalRecord {
  std::string input, output;           // the prompt and the answer as text (special tokens skipped)
  std::vector<int32_t> prompt_ids;     // the sampled tokens of the prompt (its end of turn not included)
  std::vector<int32_t> answer_ids;     // the greedy answer's tokens (its end of turn included when reached)
};

// The tokens a user's message follows: the template's rendering of one user
// turn cut where the message starts (SmolLM2: its default system turn, then
// "<|im_start|>user\n"); without a template, the tokenizer's special tokens
// of an empty text (BOS). BadInput naming the template when it does not
// write the message as given.
std::vector<int32_t> user_turn_opening(const ChatFormat& format, const Tokenizer& tokenizer);

// `options.examples` distinct records from `model` as it is (attach no
// adapter before). Draws until enough prompts ended inside the limit (at most
// 8 draws of options.examples); BadInput when too few did. Progress:
// "synthesizing" over the records; cancel: Error(Cancelled).
std::vector<RehearsalRecord> synthesize_rehearsal(const LlamaModel& model, const Tokenizer& tokenizer, const ChatFormat& format,
                                                  const std::vector<int32_t>& stops, const RehearsalOptions& options,
                                                  const Hooks& hooks = {});

// A training run's set (replay_self_examples of config): the file
// OUTPUT/../.imsm-cache/self-rehearsal-KEY.jsonl, KEY hashing the model's
// weights, its chat format and the settings (the seed; answers up to
// max_output_length, the most a run trains on), so the runs beside it and a
// resumed run read it; else synthesized and written there. Returns its path.
// Every rank of a data-parallel run makes the same bytes; `writer` (rank 0) says so in the log.
std::string self_rehearsal_for_run(const TrainConfig& config, const LlamaModel& model, const Tokenizer& tokenizer,
                                   const ChatFormat& format, const std::vector<int32_t>& stops, bool writer, const Hooks& hooks = {});

// `imsm make-rehearsal`: the set of a model folder written to `out`, to read
// before training on it (replay_data) or to inspect.
struct RehearsalRequest {
  ModelSource source;               // a model folder (no adapter)
  std::string out;                  // JSON lines
  std::string chat_template = "auto";  // auto | on | off | a template file (recipes/chat_format.h)
  RehearsalOptions options;
};
// Returns the records written. BadInput naming the flag, folder or file.
int64_t make_rehearsal(const RehearsalRequest& request, const Hooks& hooks = {});

// The records as JSON lines ({"input", "output", "prompt_ids", "answer_ids"}),
// the official format replay_data reads; written whole or not at all.
void write_rehearsal(const std::string& path, const std::vector<RehearsalRecord>& records);

}  // namespace imsm
