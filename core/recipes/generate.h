// Recipe: generate a continuation of one prompt with a model folder (and an
// adapter), loaded for the call or kept loaded by the caller.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/token_trace.h"
#include "recipes/loaded_model.h"
#include "util/run_protocol.h"

namespace imsm {

struct GenerateRequest {
  ModelSource source;
  std::string prompt;               // used unless use_prompt_ids
  std::vector<int32_t> prompt_ids;
  bool use_prompt_ids = false;
  int64_t max_new_tokens = 128;
  double temperature = 0.0;         // 0: greedy
  int top_k = 0;
  double top_p = 1.0;
  uint64_t seed = 0;
  bool ignore_eos = false;          // run to max_new_tokens past any EOS (benchmarks, as llama.cpp's --ignore-eos)
  // "q8_0": decode on llama.cpp's 8-bit weights (model/q8_decoder.h), the
  // model alone or with its LoRA merged; "": in the model's dtype.
  std::string quant;
  // IMSM adapters: record each generated token's full gate and the top-k next
  // tokens of the original stream, the tuned stream and the mix (0: none).
  int64_t trace_top_k = 0;
  // Steering an IMSM adapter: the gate clamped to clamp_value (0: the
  // fine-tuned memory, 1: the original) for the answer's tokens clamp_tokens
  // (0-based; empty: all) instead of its own.
  bool clamp = false;
  double clamp_value = 0;
  std::vector<int64_t> clamp_tokens;
};

struct GenerateResult {
  std::vector<int32_t> ids;         // generated ids only (EOS included when reached)
  std::string text;                 // decoded, special tokens skipped
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;
  double tokens_per_second = 0;     // decode speed: tokens after the first / their time
  std::vector<float> gate_mean;     // IMSM adapters: the mean gate of each generated token
  std::string variant;              // IMSM variant, or "" without an IMSM adapter
  std::vector<TokenTrace> trace;    // with trace_top_k > 0 and an IMSM adapter: one per generated token
};

// Loads request.source, then generates. on_text receives the decoded text as
// it grows (whole characters only).
GenerateResult run_generate(const GenerateRequest& request, const std::function<void(const std::string&)>& on_text,
                            const Hooks& hooks = {});
// Generates with a model already loaded (request.source is not read). One
// generation at a time per LoadedModel.
GenerateResult run_generate(const LoadedModel& loaded, const GenerateRequest& request,
                            const std::function<void(const std::string&)>& on_text, const Hooks& hooks = {});

}  // namespace imsm
