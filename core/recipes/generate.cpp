#include "recipes/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "imsm/gate.h"
#include "imsm/imsm_generate.h"
#include "model/generate.h"
#include "model/llama.h"
#include "model/q8_decoder.h"
#include "peft/peft_model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm {

namespace {
// Text complete up to the last whole character (a trailing U+FFFD may be a
// character still arriving byte by byte).
std::string settled(const std::string& text) {
  static const std::string replacement = "\xEF\xBF\xBD";
  if (text.size() >= 3 && text.compare(text.size() - 3, 3, replacement) == 0) return text.substr(0, text.size() - 3);
  return text;
}

void check_request(const GenerateRequest& r) {
  if (r.max_new_tokens <= 0) throw_bad_input("--max-new-tokens", "must be at least 1");
  if (r.temperature < 0) throw_bad_input("--temperature", "must be 0 (greedy) or positive");
  if (r.top_p <= 0 || r.top_p > 1) throw_bad_input("--top-p", "must be in (0, 1]");
  if (r.top_k < 0) throw_bad_input("--top-k", "must be 0 (off) or positive");
  if (!r.use_prompt_ids && r.prompt.empty()) throw_bad_input("--prompt", "empty prompt: give some text or --prompt-ids");
  if (r.clamp && !(r.clamp_value >= 0 && r.clamp_value <= 1))
    throw_bad_input("--clamp-gate", std::to_string(r.clamp_value) + " is outside [0, 1] (0: the fine-tuned memory, 1: the original)");
  for (const int64_t t : r.clamp_tokens)
    if (t < 0) throw_bad_input("--clamp-tokens", "token positions count from 0");
  if (r.use_prompt_ids && r.prompt_ids.empty()) throw_bad_input("--prompt-ids", "empty prompt: give at least one id");
  if (!r.quant.empty() && r.quant != "q8_0") throw_bad_input("--quant", "\"" + r.quant + "\" is not a decoding format; the one there is: q8_0");
  if (!r.quant.empty() && r.trace_top_k > 0) throw_bad_input("--quant", "decodes one stream; --trace-top-k traces an IMSM adapter's three");
}

// The prompt's ids: as given, or the text encoded; each checked against the vocabulary.
std::vector<int32_t> prompt_of(const LoadedModel& loaded, const GenerateRequest& r) {
  if (!r.use_prompt_ids && !loaded.tokenizer)
    throw_bad_input(loaded.source.model_dir, "no tokenizer.json or tokenizer.model: give the prompt as --prompt-ids");
  const int64_t vocab_size = loaded.model->config().vocab_size;
  const std::vector<int32_t> prompt = r.use_prompt_ids ? r.prompt_ids : loaded.tokenizer->encode(r.prompt, true);
  if (prompt.empty()) throw_bad_input("--prompt", "the prompt encodes to no tokens");
  for (const int32_t id : prompt)
    if (id < 0 || id >= vocab_size)
      throw_bad_input(r.use_prompt_ids ? "--prompt-ids" : "--prompt",
                      "token id " + std::to_string(id) + " is outside the model's vocabulary (0.." + std::to_string(vocab_size - 1) + ")");
  return prompt;
}

// What the IMSM step knew when `token` was drawn: its last gate, each
// stream's top-k, the token's probability and each stream's entropy under
// the three memories, and KL(original ‖ tuned).
TokenTrace trace_of(const ImsmStep& step, const Tokenizer* tokenizer, int32_t token) {
  TokenTrace t;
  t.id = token;
  if (tokenizer) t.piece = tokenizer->piece(token);
  const torch::Tensor g = step.last_gate()[0].contiguous();  // [d]
  t.gate.assign(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
  t.gate_mean = g.mean().item<float>();
  t.gate_min = g.min().item<float>();
  t.gate_max = g.max().item<float>();
  const torch::Tensor ids = step.last_top_ids().select(1, 0).to(torch::kInt64).contiguous();  // [3, k]
  const torch::Tensor probs = step.last_top_probs().select(1, 0).contiguous();              // [3, k]
  std::vector<Candidate>* lists[3] = {&t.top_original, &t.top_tuned, &t.top_mixed};
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t j = 0; j < ids.size(1); ++j) {
      const auto id = static_cast<int32_t>(ids[s][j].item<int64_t>());
      lists[s]->push_back({id, tokenizer ? tokenizer->piece(id) : std::string(), probs[s][j].item<float>()});
    }
  const torch::Tensor log_p = step.last_log_probs().select(1, 0).select(1, token);  // [3]: this token under each stream
  t.p_original = std::exp(log_p[0].item<float>());
  t.p_tuned = std::exp(log_p[1].item<float>());
  t.p_mix = std::exp(log_p[2].item<float>());
  const torch::Tensor entropy = step.last_entropies().select(1, 0);  // [3]
  t.entropy_original = entropy[0].item<float>();
  t.entropy_tuned = entropy[1].item<float>();
  t.entropy_mix = entropy[2].item<float>();
  t.kl_original_tuned = step.last_kl()[0].item<float>();
  return t;
}

// The IMSM step of a model with a gate (null without), clamped as asked.
ImsmStep* steered_step(DecodeStep& step, const LoadedModel& loaded, const GenerateRequest& r) {
  auto* imsm_step = dynamic_cast<ImsmStep*>(&step);
  if (r.clamp && !imsm_step)
    throw_bad_input("--clamp-gate", "steers the gate of an IMSM adapter; " +
                                        (loaded.source.adapter_dir.empty() ? std::string("give one with --adapter") : loaded.source.adapter_dir + " has none"));
  if (r.clamp) imsm_step->set_clamp(r.clamp_value, r.clamp_tokens);
  return imsm_step;
}

// The step that decodes: the model's own (IMSM's when it has a gate), or its q8_0 copy.
std::unique_ptr<DecodeStep> decode_step(const LoadedModel& loaded, const GenerateRequest& r, bool use_cache) {
  if (r.quant.empty()) return make_decode_step(*loaded.model, loaded.gate.get(), use_cache);
  if (loaded.gate)
    throw_bad_input("--quant", loaded.source.adapter_dir + " is an IMSM adapter, which mixes two streams per token: decode it without --quant");
  if (!loaded.model->device().is_cpu()) throw_bad_input("--quant", "q8_0 decoding runs on the CPU: leave --device out");
  const auto start = std::chrono::steady_clock::now();
  auto step = std::make_unique<Q8DecodeStep>(*loaded.model);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("q8_0 weights: " + std::to_string(step->weight_bytes() >> 20) + " MiB, quantized in " + std::to_string(seconds).substr(0, 4) +
            " s; " + q8_kernel_name(step->kernel()) + " kernel");
  return step;
}

}  // namespace

GenerateResult run_generate(const GenerateRequest& r, const std::function<void(const std::string&)>& on_text,
                            const Hooks& hooks) {
  check_request(r);  // before the model loads
  hooks.progress({"loading", 0, 1});
  ModelSource source = r.source;
  if (!r.quant.empty() && source.dtype == Precision::Auto) source.dtype = Precision::F32;  // quantized from the full weights
  const auto loaded = load_model(source, r.use_prompt_ids ? TokenizerNeed::IfPresent : TokenizerNeed::Required);
  if (!r.quant.empty() && loaded->adapters && !loaded->gate) loaded->adapters->merge_and_unload();  // a LoRA decodes merged
  hooks.progress({"loading", 1, 1});
  return run_generate(*loaded, r, on_text, hooks);
}

GenerateResult run_generate(const LoadedModel& loaded, const GenerateRequest& r,
                            const std::function<void(const std::string&)>& on_text, const Hooks& hooks) {
  check_request(r);
  const LlamaModel* model = loaded.model.get();
  const ImsmGate* gate = loaded.gate.get();
  const Tokenizer* tokenizer = loaded.tokenizer.get();
  const std::vector<int32_t> prompt = prompt_of(loaded, r);

  GenerateOptions options;
  options.max_new_tokens = r.max_new_tokens;
  options.sampling = {r.temperature, r.top_k, r.top_p, r.seed};
  if (!r.ignore_eos) {
    options.eos_ids = stop_ids(model->config(), tokenizer ? tokenizer->eos_ids() : std::vector<int32_t>{});
    if (options.eos_ids.empty()) log::warn("no EOS id in config.json or tokenizer_config.json: generation runs to --max-new-tokens");
  }

  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  std::string shown;
  TokenSink on_token = [&](int64_t, int64_t, int32_t token) {
    result.ids.push_back(token);
    hooks.progress({"generating", static_cast<int64_t>(result.ids.size()), r.max_new_tokens});
    if (!tokenizer || !on_text) return;
    const std::string now = settled(tokenizer->decode(result.ids, true));
    if (now.size() > shown.size() && now.compare(0, shown.size(), shown) == 0) {
      on_text(now.substr(shown.size()));
      shown = now;
    }
  };
  const std::unique_ptr<DecodeStep> step = decode_step(loaded, r, options.use_cache);
  ImsmStep* imsm_step = steered_step(*step, loaded, r);  // null without a gate
  if (imsm_step && r.trace_top_k > 0) {
    imsm_step->set_trace_top_k(r.trace_top_k);
    // The step's last gate and top-k are those of the distribution this token was drawn from.
    on_token = [&, show = on_token](int64_t row, int64_t slot, int32_t token) {
      TokenTrace t = trace_of(*imsm_step, tokenizer, token);
      const auto index = static_cast<int64_t>(result.trace.size());
      t.steered = r.clamp && (r.clamp_tokens.empty() || std::find(r.clamp_tokens.begin(), r.clamp_tokens.end(), index) != r.clamp_tokens.end());
      result.trace.push_back(std::move(t));
      show(row, slot, token);
    };
  }
  Hooks abort_only;  // progress is reported per token above
  abort_only.should_abort = hooks.should_abort;
  const GenerateOutput out = generate(*step, {prompt}, options, abort_only, on_token);
  if (gate) {
    result.gate_mean = out.gate_mean[0];
    result.variant = variant_name(gate->config().variant);
  }
  if (tokenizer) result.text = tokenizer->decode(result.ids, true);
  result.prefill_seconds = out.prefill_seconds;
  result.tokens_per_second = out.decode_seconds > 0 ? out.decode_steps / out.decode_seconds : 0.0;
  return result;
}

}  // namespace imsm
