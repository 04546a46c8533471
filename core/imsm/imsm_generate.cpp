#include "imsm/imsm_generate.h"

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
  const torch::Tensor h = model_.forward_hidden(input);      // [2B, T, d]
  const torch::Tensor h_Mp = h.narrow(0, 0, B);              // [B, T, d] tuned memory
  const torch::Tensor h_M = h.narrow(0, B, B);               // [B, T, d] original memory
  if (!q_M_.defined()) {
    // The first call holds the prompt: query means over its real (unpadded) tokens.
    const torch::Tensor w = (mask.defined() ? mask.narrow(1, mask.size(1) - T, T) : torch::ones({B, T}, torch::kInt64))
                                .to(h.device(), h.scalar_type()).unsqueeze(-1);  // [B, T, 1]
    q_M_ = masked_mean(h_M, w);    // [B, d]
    q_Mp_ = masked_mean(h_Mp, w);  // [B, d]
  }
  const torch::Tensor last_M = h_M.select(1, T - 1).unsqueeze(1);    // [B, 1, d]
  const torch::Tensor last_Mp = h_Mp.select(1, T - 1).unsqueeze(1);  // [B, 1, d]
  torch::Tensor g;
  const torch::Tensor h_N = gate_.mix(last_M, last_Mp, q_M_, q_Mp_, &g);  // [B, 1, d]
  gate_last_ = g.squeeze(1).to(torch::kCPU, torch::kFloat32);             // [B, d]
  gate_mean_ = gate_last_.mean(-1);                                        // [B]
  const torch::Tensor logits = model_.lm_head(h_N.squeeze(1).to(model_.dtype())).to(torch::kCPU, torch::kFloat32).contiguous();  // [B, vocab]
  if (trace_k_ > 0) {
    const torch::Tensor logits_M = model_.lm_head(last_M.squeeze(1)).to(torch::kCPU, torch::kFloat32);    // [B, vocab] original
    const torch::Tensor logits_Mp = model_.lm_head(last_Mp.squeeze(1)).to(torch::kCPU, torch::kFloat32);  // [B, vocab] tuned
    const torch::Tensor probs = torch::stack({logits_M, logits_Mp, logits}).softmax(-1);                // [3, B, vocab]
    const auto top = probs.topk(std::min<int64_t>(trace_k_, probs.size(-1)), -1);                         // [3, B, k] each
    top_probs_ = std::get<0>(top).contiguous();
    top_ids_ = std::get<1>(top).contiguous();
  }
  return logits;
}

std::unique_ptr<DecodeStep> make_decode_step(const LlamaModel& model, const ImsmGate* gate, bool use_cache) {
  if (gate) return std::make_unique<ImsmStep>(model, *gate, use_cache);
  return std::make_unique<ModelStep>(model, use_cache);
}

}  // namespace imsm
