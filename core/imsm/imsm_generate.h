// IMSM decoding: the original and the tuned stream as one batch of 2B rows
// over the shared base weights (rows 0..B-1 carry the adapters), one KV cache
// for both, query means from the prompt once, the gate per generated token.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "imsm/gate.h"
#include "model/generate.h"

namespace imsm {

class ImsmStep : public DecodeStep {
 public:
  // `gate` is needed for query, no-query and no-gate (not for none, which ModelStep serves).
  ImsmStep(const LlamaModel& model, const ImsmGate& gate, bool use_cache);
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override;
  torch::Tensor last_gate_mean() const override { return gate_mean_; }
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  bool uses_cache() const override { return use_cache_; }
  bool can_share_prefix() const override { return use_cache_; }
  // The prefix's query sums join the rest's: the query means are over whole prompts.
  void repeat_first_row(int64_t rows) override;
  // After the prompt: the cache's rows of both streams and the query means.
  bool can_drop_rows() const override { return use_cache_; }
  void keep_rows(const torch::Tensor& rows) override;
  // The full gate of the last step, [B, d] (for the per-dimension heatmap).
  const torch::Tensor& last_gate() const { return gate_last_; }
  // With k > 0 each step also keeps the k most probable next tokens of the
  // original stream (LM head on h_M), the tuned stream (on h_M') and the mix
  // (on h_N): ids [3, B, k] and probabilities [3, B, k], rows in that order.
  // Costs two more LM-head products per step; off by default.
  // Also the three streams' log-probabilities [3, B, vocab] (original, tuned,
  // mix), their entropies [3, B] and KL(original ‖ tuned) [B].
  void set_trace_top_k(int64_t k) { trace_k_ = k; }
  const torch::Tensor& last_top_ids() const { return top_ids_; }
  const torch::Tensor& last_top_probs() const { return top_probs_; }
  const torch::Tensor& last_log_probs() const { return log_probs_; }
  const torch::Tensor& last_entropies() const { return entropies_; }
  const torch::Tensor& last_kl() const { return kl_; }
  // Steering: the gate clamped to `value` (every dimension) when generating
  // the answer's tokens `tokens` (0-based; empty: every token) instead of
  // the gate's own; the other tokens keep theirs.
  void set_clamp(double value, std::vector<int64_t> tokens);

 private:
  void take_query(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& mask);  // h: [B, T, d]

  const LlamaModel& model_;
  const ImsmGate& gate_;
  KVCache cache_;
  bool use_cache_;
  torch::Tensor q_M_, q_Mp_;  // [B, d]: query means, from the first call (the prompt)
  torch::Tensor sum_M_, sum_Mp_;               // [B, d]: the first call's query sums
  torch::Tensor prefix_sum_M_, prefix_sum_Mp_;  // [B, d]: a shared prefix's sums (undefined: none)
  int64_t prefix_tokens_ = 0;
  torch::Tensor gate_mean_;   // [B]
  torch::Tensor gate_last_;   // [B, d]
  int64_t trace_k_ = 0;
  torch::Tensor top_ids_, top_probs_;  // [3, B, k]: original, tuned, mixed
  torch::Tensor log_probs_;            // [3, B, vocab]
  torch::Tensor entropies_;            // [3, B]
  torch::Tensor kl_;                   // [B]
  bool clamped_ = false;
  double clamp_value_ = 0;
  std::vector<int64_t> clamp_tokens_;  // empty: all
  int64_t calls_ = 0;                  // next_logits calls so far: the answer token being made
};

// The decode step for a model with an IMSM gate (both streams, mixed) or
// without one (gate null: the model with whatever PEFT adapter it carries).
std::unique_ptr<DecodeStep> make_decode_step(const LlamaModel& model, const ImsmGate* gate, bool use_cache);

}  // namespace imsm
