#include "imsm/imsm_generate.h"

#include <algorithm>

namespace imsm {

ImsmStep::ImsmStep(const LlamaModel& model, const ImsmGate& gate, bool use_cache)
    : model_(model), gate_(gate), cache_(model.make_cache()), use_cache_(use_cache) {}

torch::Tensor ImsmStep::next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) {
  const int64_t B = ids.size(0), T = ids.size(1);
  ForwardInput input;
  input.input_ids = torch::cat({ids, ids}, 0);              // [2B, T]: tuned rows, then original rows
  input.positions = torch::cat({positions, positions}, 0);  // [2B, T]
  if (mask.defined()) input.attention_mask = torch::cat({mask, mask}, 0);  // [2B, S]
  input.adapter_rows = {0, B, true};                         // adapters on rows 0..B-1 only
  if (use_cache_) input.cache = &cache_;
  else cache_.clear();
  const int64_t k = model_.first_adapted_layer();
  if (k > 0) {  // below the first adapter the streams are one computation on B rows (those cache layers hold B rows)
    ForwardInput lower;
    lower.input_ids = ids;
    lower.positions = positions;
    lower.attention_mask = mask;
    lower.cache = input.cache;
    const torch::Tensor shared = model_.lower_layers(lower, k);  // [B, T, d]
    input.lower_hidden = torch::cat({shared, shared}, 0);         // [2B, T, d]
    input.from_layer = k;
  }
  const torch::Tensor h = model_.forward_hidden(input);      // [2B, T, d]
  const torch::Tensor h_Mp = h.narrow(0, 0, B);              // [B, T, d] tuned memory
  const torch::Tensor h_M = h.narrow(0, B, B);               // [B, T, d] original memory
  if (!q_M_.defined()) take_query(h_M, h_Mp, mask);
  const torch::Tensor last_M = h_M.select(1, T - 1).unsqueeze(1);    // [B, 1, d]
  const torch::Tensor last_Mp = h_Mp.select(1, T - 1).unsqueeze(1);  // [B, 1, d]
  const int64_t token = calls_++;  // the answer's token this call makes
  const bool clamp = clamped_ && (clamp_tokens_.empty() || std::find(clamp_tokens_.begin(), clamp_tokens_.end(), token) != clamp_tokens_.end());
  torch::Tensor g;
  torch::Tensor h_N;  // [B, 1, d]
  if (clamp) {        // steered: the constant gate instead of the gate's own
    g = torch::full(last_M.sizes(), clamp_value_, last_M.options().dtype(gate_.dtype()));
    h_N = ImsmGate::fixed_mix(clamp_value_, last_M, last_Mp, gate_.dtype());
  } else {
    h_N = gate_.mix(last_M, last_Mp, q_M_, q_Mp_, &g);
  }
  gate_last_ = g.squeeze(1).to(torch::kCPU, torch::kFloat32);             // [B, d]
  gate_mean_ = gate_last_.mean(-1);                                        // [B]
  const torch::Tensor logits = model_.lm_head(h_N.squeeze(1).to(model_.dtype())).to(torch::kCPU, torch::kFloat32).contiguous();  // [B, vocab]
  if (trace_k_ > 0) {
    const torch::Tensor logits_M = model_.lm_head(last_M.squeeze(1)).to(torch::kCPU, torch::kFloat32);    // [B, vocab] original
    const torch::Tensor logits_Mp = model_.lm_head(last_Mp.squeeze(1)).to(torch::kCPU, torch::kFloat32);  // [B, vocab] tuned
    log_probs_ = torch::stack({logits_M, logits_Mp, logits}).log_softmax(-1);                           // [3, B, vocab]
    const torch::Tensor probs = log_probs_.exp();                                                        // [3, B, vocab]
    entropies_ = -(probs * log_probs_).sum(-1);                                                          // [3, B]
    kl_ = (probs[0] * (log_probs_[0] - log_probs_[1])).sum(-1);                                          // [B]: KL(original ‖ tuned)
    const auto top = probs.topk(std::min<int64_t>(trace_k_, probs.size(-1)), -1);                         // [3, B, k] each
    top_probs_ = std::get<0>(top).contiguous();
    top_ids_ = std::get<1>(top).contiguous();
  }
  return logits;
}

// The first call holds the prompt (after a shared prefix, the rest of it):
// the query means over its real (unpadded) tokens, the prefix's sums added.
void ImsmStep::take_query(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& mask) {
  const int64_t B = h_M.size(0), T = h_M.size(1);
  const torch::Tensor w = (mask.defined() ? mask.narrow(1, mask.size(1) - T, T) : torch::ones({B, T}, torch::kInt64))
                              .to(h_M.device(), h_M.scalar_type()).unsqueeze(-1);  // [B, T, 1]
  sum_M_ = (h_M * w).sum(1);    // [B, d]
  sum_Mp_ = (h_Mp * w).sum(1);  // [B, d]
  // masked_mean's arithmetic (the training's query), over the prefix's tokens too (+ 0 without one: exact)
  const torch::Tensor tokens = (w.sum(1) + static_cast<double>(prefix_tokens_)).clamp_min(1);  // [B, 1]
  q_M_ = (prefix_tokens_ > 0 ? sum_M_ + prefix_sum_M_ : sum_M_) / tokens;      // [B, d]
  q_Mp_ = (prefix_tokens_ > 0 ? sum_Mp_ + prefix_sum_Mp_ : sum_Mp_) / tokens;  // [B, d]
}

void ImsmStep::repeat_first_row(int64_t rows) {
  prefix_tokens_ = cache_.length();                         // the prefix, run as one row
  prefix_sum_M_ = sum_M_.expand({rows, sum_M_.size(1)});    // [rows, d]
  prefix_sum_Mp_ = sum_Mp_.expand({rows, sum_Mp_.size(1)}); // [rows, d]
  q_M_ = q_Mp_ = torch::Tensor();                           // the next call (the rests) makes the prompts' means
  calls_ = 0;                                               // and their first answer token
  cache_.repeat_each_row(rows);                             // lower layers 1 -> rows, upper (tuned, original) 2 -> 2 · rows
}

void ImsmStep::keep_rows(const torch::Tensor& rows) {
  cache_.keep_rows(rows, q_M_.size(0));  // lower layers: the batch's rows; upper: tuned, then original
  for (torch::Tensor* t : {&q_M_, &q_Mp_}) *t = t->index_select(0, rows.to(t->device()));  // [R', d]
}

void ImsmStep::set_clamp(double value, std::vector<int64_t> tokens) {
  clamped_ = true;
  clamp_value_ = value;
  clamp_tokens_ = std::move(tokens);
}

std::unique_ptr<DecodeStep> make_decode_step(const LlamaModel& model, const ImsmGate* gate, bool use_cache) {
  if (gate) return std::make_unique<ImsmStep>(model, *gate, use_cache);
  return std::make_unique<ModelStep>(model, use_cache);
}

}  // namespace imsm
