// Batched autoregressive generation with a KV cache: left-padded prompts,
// per-row stopping at any EOS id, greedy or seeded sampling.
#pragma once
#include <functional>
#include <vector>

#include "model/llama.h"
#include "model/sampler.h"

namespace imsm {

struct GenerateOptions {
  int64_t max_new_tokens = 128;
  SamplingOptions sampling;        // row r samples with seed + r
  std::vector<int32_t> eos_ids;    // a row stops after emitting one of these
  bool use_cache = true;           // false: recompute the whole sequence every step
};

struct GenerateCallbacks {
  std::function<void(int64_t row, int32_t token)> on_token;  // each new token, as it comes
  std::function<bool()> should_abort;                        // true: stop now (throws Cancelled)
};

struct GenerateOutput {
  std::vector<std::vector<int32_t>> tokens;  // per row: generated ids only (EOS included when reached)
  double prefill_seconds = 0;
  double decode_seconds = 0;                 // time of every step after the first token
  int64_t decode_steps = 0;
};

// prompts: B lists of ids (none empty; every id < vocab_size).
GenerateOutput generate(const LlamaModel& model, const std::vector<std::vector<int32_t>>& prompts,
                        const GenerateOptions& options, const GenerateCallbacks& callbacks = {});

// Left-pads prompts: ids [B, L] (pad 0), mask [B, L], positions [B, L] (0.. on real tokens).
struct PaddedBatch {
  torch::Tensor ids, mask, positions;
};
PaddedBatch left_pad(const std::vector<std::vector<int32_t>>& prompts);

}  // namespace imsm
