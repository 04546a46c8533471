// Batched autoregressive generation with a KV cache: left-padded prompts,
// per-row stopping at any EOS id, greedy or seeded sampling.
#pragma once
#include <functional>
#include <vector>

#include "model/llama.h"
#include "model/sampler.h"
#include "util/run_protocol.h"

namespace imsm {

struct GenerateOptions {
  int64_t max_new_tokens = 128;
  SamplingOptions sampling;        // row r samples with seed + r
  std::vector<int32_t> eos_ids;    // a row stops after emitting one of these
  bool use_cache = true;           // false: recompute the whole sequence every step
};

// Each new token of prompt `row`, as it comes; `slot` is that row's place in
// the step's per-row results of this call (ImsmStep::last_gate(), ...),
// which moves down when finished rows leave the batch.
using TokenSink = std::function<void(int64_t row, int64_t slot, int32_t token)>;

struct GenerateOutput {
  std::vector<std::vector<int32_t>> tokens;  // per row: generated ids only (EOS included when reached)
  std::vector<std::vector<float>> gate_mean; // per row and token: the mean IMSM gate (when the step has a gate)
  double prefill_seconds = 0;
  double decode_seconds = 0;                 // time of every step after the first token
  int64_t decode_steps = 0;
};

// One decoding step: the next-token logits of every row. Implementations keep
// their own KV cache (or none) and may mix several streams (IMSM).
class DecodeStep {
 public:
  virtual ~DecodeStep() = default;
  // ids, positions: [B, T] (the prompt, then one token per row); mask: [B, S]
  // over every position so far (1 = token) or undefined (no padding).
  // -> logits [B, vocab] of each row's last position (fp32, CPU).
  virtual torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) = 0;
  // The mean gate [B] behind the last logits, or undefined when there is no gate.
  virtual torch::Tensor last_gate_mean() const { return torch::Tensor(); }
  virtual int64_t vocab_size() const = 0;
  virtual bool uses_cache() const = 0;  // false: fed the whole sequence every step
  // Prompts that start alike: after next_logits on their common prefix as one
  // row, repeat_first_row copies its cache to `rows` rows, which then go on
  // with their own tokens. Steps that cannot say false (generate() then
  // prefills whole prompts).
  virtual bool can_share_prefix() const { return false; }
  virtual void repeat_first_row(int64_t rows) { (void)rows; }
  // Rows that are done leave the batch: keep_rows(rows) keeps only the rows
  // `rows` [R] int64 (ascending) of whatever the step holds per row, so the
  // next call gets R rows. Steps that cannot say false (their finished rows
  // then go on being computed, their tokens unused).
  virtual bool can_drop_rows() const { return false; }
  virtual void keep_rows(const torch::Tensor& rows) { (void)rows; }
};

// The base model (with whatever adapters are attached), cached or not.
class ModelStep : public DecodeStep {
 public:
  ModelStep(const LlamaModel& model, bool use_cache) : model_(model), cache_(model.make_cache()), use_cache_(use_cache) {}
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override;
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  bool uses_cache() const override { return use_cache_; }
  bool can_share_prefix() const override { return use_cache_; }
  void repeat_first_row(int64_t rows) override { cache_.repeat_each_row(rows); }
  bool can_drop_rows() const override { return use_cache_; }
  void keep_rows(const torch::Tensor& rows) override;

 private:
  const LlamaModel& model_;
  KVCache cache_;
  bool use_cache_;
};

// prompts: B lists of ids (none empty; every id < vocab_size). Tokens that
// every prompt starts with (at least kMinSharedPrefix, e.g. an evaluation
// set's instruction) are prefilled once and their cache shared by the rows,
// when the step can (repeat_first_row); and once a quarter of the rows still
// in the batch are done, they leave it, when the step can (keep_rows): the
// same computation for every row, fewer rows and tokens.
// Cancel (the run protocol): hooks.should_abort() is polled before each step.
GenerateOutput generate(DecodeStep& step, const std::vector<std::vector<int32_t>>& prompts,
                        const GenerateOptions& options, const Hooks& hooks = {}, const TokenSink& on_token = {});
// generate() with a ModelStep.
GenerateOutput generate(const LlamaModel& model, const std::vector<std::vector<int32_t>>& prompts,
                        const GenerateOptions& options, const Hooks& hooks = {}, const TokenSink& on_token = {});

// The ids that end generation: config.json's EOS ids, then the tokenizer's.
std::vector<int32_t> stop_ids(const ModelConfig& config, const std::vector<int32_t>& tokenizer_eos);

// Left-pads prompts: ids [B, L] (pad 0), mask [B, L], positions [B, L] (0.. on real tokens).
struct PaddedBatch {
  torch::Tensor ids, mask, positions;
};
PaddedBatch left_pad(const std::vector<std::vector<int32_t>>& prompts);

// The shortest common prefix generate() shares; below it one more forward call costs more than it saves.
constexpr int64_t kMinSharedPrefix = 8;
// The tokens every prompt starts with, short of each prompt's last (which makes its first logits).
int64_t shared_prefix_length(const std::vector<std::vector<int32_t>>& prompts);

}  // namespace imsm
