#include "model/generate.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "util/error.h"

namespace imsm {

std::vector<int32_t> stop_ids(const ModelConfig& config, const std::vector<int32_t>& tokenizer_eos) {
  std::vector<int32_t> ids;
  for (const int64_t id : config.eos_token_ids) ids.push_back(static_cast<int32_t>(id));
  for (const int32_t id : tokenizer_eos)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  return ids;
}

PaddedBatch left_pad(const std::vector<std::vector<int32_t>>& prompts) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t L = 0;
  for (const auto& p : prompts) L = std::max<int64_t>(L, static_cast<int64_t>(p.size()));
  PaddedBatch out;
  out.ids = torch::zeros({B, L}, torch::kInt64);   // [B, L]
  out.mask = torch::zeros({B, L}, torch::kInt64);  // [B, L]
  auto ids = out.ids.accessor<int64_t, 2>();
  auto mask = out.mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t pad = L - static_cast<int64_t>(prompts[b].size());
    for (size_t t = 0; t < prompts[b].size(); ++t) {
      ids[b][pad + static_cast<int64_t>(t)] = prompts[b][t];
      mask[b][pad + static_cast<int64_t>(t)] = 1;
    }
  }
  out.positions = (out.mask.cumsum(1) - 1).clamp_min(0);  // [B, L]
  return out;
}

int64_t shared_prefix_length(const std::vector<std::vector<int32_t>>& prompts) {
  int64_t n = static_cast<int64_t>(prompts.front().size()) - 1;
  for (const auto& p : prompts) {
    n = std::min<int64_t>(n, static_cast<int64_t>(p.size()) - 1);
    int64_t i = 0;
    while (i < n && p[static_cast<size_t>(i)] == prompts.front()[static_cast<size_t>(i)]) ++i;
    n = i;
  }
  return std::max<int64_t>(n, 0);
}

torch::Tensor ModelStep::next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) {
  ForwardInput input;
  input.input_ids = ids;
  input.positions = positions;
  input.attention_mask = mask;
  input.cache = use_cache_ ? &cache_ : nullptr;
  const torch::Tensor hidden = model_.forward_hidden(input);                       // [B, T, d]
  return model_.lm_head(hidden.select(1, hidden.size(1) - 1)).to(torch::kCPU, torch::kFloat32).contiguous();  // [B, vocab]
}

void ModelStep::keep_rows(const torch::Tensor& rows) { cache_.keep_rows(rows, cache_.rows(0)); }  // every layer: the batch's rows

GenerateOutput generate(const LlamaModel& model, const std::vector<std::vector<int32_t>>& prompts,
                        const GenerateOptions& options, const Hooks& hooks, const TokenSink& on_token) {
  ModelStep step(model, options.use_cache);
  return generate(step, prompts, options, hooks, on_token);
}

namespace {

void check_prompts(const std::vector<std::vector<int32_t>>& prompts, int64_t vocab) {
  if (prompts.empty()) throw_bad_input("generate", "no prompts");
  for (const auto& p : prompts) {
    if (p.empty()) throw_bad_input("generate", "empty prompt: give at least one token");
    for (const int32_t id : p)
      if (id < 0 || id >= vocab)
        throw_bad_input("generate", "prompt token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                        std::to_string(vocab - 1) + ")");
  }
}

// A sampler per row, row b seeded with seed + b.
std::vector<Sampler> samplers_for(const SamplingOptions& sampling, int64_t B) {
  std::vector<Sampler> samplers;
  for (int64_t b = 0; b < B; ++b) {
    SamplingOptions s = sampling;
    s.seed += static_cast<uint64_t>(b);
    samplers.emplace_back(s);
  }
  return samplers;
}

// The rows still generating draw their next token (kept in `out`, given to
// on_token); a row that draws an EOS id is done. Row i of logits [R, vocab]
// is prompt live[i]. Returns the drawn ids, [R, 1].
torch::Tensor draw_tokens(const torch::Tensor& logits, const torch::Tensor& gate, const std::vector<int64_t>& live,
                          std::vector<Sampler>& samplers, std::vector<bool>& done, const std::vector<int32_t>& eos_ids,
                          GenerateOutput& out, const TokenSink& on_token) {
  const auto R = static_cast<int64_t>(live.size());
  torch::Tensor next = torch::zeros({R, 1}, torch::kInt64);  // [R, 1]
  for (int64_t i = 0; i < R; ++i) {
    const int64_t b = live[static_cast<size_t>(i)];
    if (done[b]) continue;
    const int32_t token = samplers[b].next(logits[i].data_ptr<float>(), logits.size(1));
    out.tokens[b].push_back(token);
    if (gate.defined()) out.gate_mean[b].push_back(gate[i].item<float>());
    next[i][0] = token;
    if (on_token) on_token(b, i, token);
    if (std::find(eos_ids.begin(), eos_ids.end(), token) != eos_ids.end()) done[b] = true;
  }
  return next;
}

// The batch's rows still generating (positions into `live`), when at least a
// quarter of it is done and the step can drop rows; else empty (keep all).
std::vector<int64_t> rows_to_keep(const DecodeStep& decode, const std::vector<int64_t>& live, const std::vector<bool>& done) {
  std::vector<int64_t> keep;
  for (size_t i = 0; i < live.size(); ++i)
    if (!done[live[i]]) keep.push_back(static_cast<int64_t>(i));
  if (!decode.can_drop_rows() || 4 * (live.size() - keep.size()) < live.size()) return {};
  return keep;
}

// The first step's input: the left-padded prompts; or, when they share a
// prefix the step can share, the prefix is run here as one row, its cache
// repeated, and the input is the rest of each prompt, left-padded after it:
// ids and positions [B, T] of the rest (positions go on from the prefix's),
// mask [B, P + T] over the prefix and the rest.
PaddedBatch first_input(DecodeStep& decode, const std::vector<std::vector<int32_t>>& prompts) {
  const auto B = static_cast<int64_t>(prompts.size());
  const int64_t P = B > 1 && decode.can_share_prefix() ? shared_prefix_length(prompts) : 0;
  if (P < kMinSharedPrefix) return left_pad(prompts);
  const std::vector<int64_t> prefix(prompts.front().begin(), prompts.front().begin() + P);
  decode.next_logits(torch::tensor(prefix).view({1, P}), torch::arange(P).view({1, P}), torch::Tensor());  // [1, P]: its logits unused
  decode.repeat_first_row(B);
  std::vector<std::vector<int32_t>> rest;
  for (const auto& p : prompts) rest.emplace_back(p.begin() + P, p.end());
  PaddedBatch batch = left_pad(rest);                                                // [B, T]
  batch.positions = batch.positions + P;                                             // [B, T]
  batch.mask = torch::cat({torch::ones({B, P}, torch::kInt64), batch.mask}, 1);     // [B, P + T]
  return batch;
}

}  // namespace

GenerateOutput generate(DecodeStep& decode, const std::vector<std::vector<int32_t>>& prompts,
                        const GenerateOptions& options, const Hooks& hooks, const TokenSink& on_token) {
  using Clock = std::chrono::steady_clock;
  check_prompts(prompts, decode.vocab_size());
  torch::NoGradGuard no_grad;
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<Sampler> samplers = samplers_for(options.sampling, B);
  auto start = Clock::now();
  const PaddedBatch batch = first_input(decode, prompts);
  torch::Tensor all_ids = batch.ids, mask = batch.mask, positions = batch.positions;  // [B, S] (a shared prefix: in the cache, in mask only)
  // Without padding the mask is only causal, which the model builds itself.
  const bool padded = batch.mask.min().item<int64_t>() == 0;
  GenerateOutput out;
  out.tokens.assign(B, {});
  out.gate_mean.assign(B, {});
  std::vector<bool> done(B, false);
  std::vector<int64_t> live(static_cast<size_t>(B));  // the batch's rows: which prompt each is
  std::iota(live.begin(), live.end(), 0);

  torch::Tensor step_ids = all_ids, step_positions = positions;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    hooks.check_abort("generation cancelled");
    const torch::Tensor logits = decode.next_logits(step_ids, step_positions, padded ? mask : torch::Tensor());  // [R, vocab]
    const torch::Tensor gate = decode.last_gate_mean();                                                         // [R] or undefined
    const auto now = Clock::now();
    if (step == 0) out.prefill_seconds = std::chrono::duration<double>(now - start).count();
    else {
      out.decode_seconds += std::chrono::duration<double>(now - start).count();
      ++out.decode_steps;
    }
    start = now;
    torch::Tensor next = draw_tokens(logits, gate, live, samplers, done, options.eos_ids, out, on_token);  // [R, 1]
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    if (step + 1 == options.max_new_tokens) break;

    const std::vector<int64_t> keep = rows_to_keep(decode, live, done);
    if (!keep.empty()) {  // the finished rows leave: every per-row tensor keeps the others
      const torch::Tensor rows = torch::tensor(keep);  // [R']
      decode.keep_rows(rows);
      for (torch::Tensor* t : {&mask, &positions, &all_ids, &next}) *t = t->index_select(0, rows);
      std::vector<int64_t> still;
      for (const int64_t i : keep) still.push_back(live[static_cast<size_t>(i)]);
      live = std::move(still);
    }
    const auto R = static_cast<int64_t>(live.size());
    const torch::Tensor next_pos = positions.select(1, positions.size(1) - 1).unsqueeze(1) + 1;  // [R, 1]
    mask = torch::cat({mask, torch::ones({R, 1}, torch::kInt64)}, 1);                            // [R, S + 1]
    positions = torch::cat({positions, next_pos}, 1);                                            // [R, S + 1]
    all_ids = torch::cat({all_ids, next}, 1);                                                    // [R, S + 1]
    step_ids = decode.uses_cache() ? next : all_ids;
    step_positions = decode.uses_cache() ? next_pos : positions;
  }
  return out;
}

}  // namespace imsm
