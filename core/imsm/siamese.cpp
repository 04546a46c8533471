#include "imsm/siamese.h"

#include <optional>

#include "model/device.h"
#include "util/error.h"

namespace imsm {

SiameseOutput siamese_forward(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                              const LlamaModel* original_copy) {
  SiameseOutput out = siamese_memory(model, gate, batch, original_copy);
  std::optional<AutocastScope> autocast;  // the PEFT method alone: the head in the tuned stream's autocast, as the stream it ends
  if (gate == nullptr) autocast.emplace(model.device(), model.dtype());
  out.logits = model.lm_head(out.h_N);  // [B, T, vocab]: the frozen head on the (mixed) memory
  return out;
}

torch::Tensor original_memory(const LlamaModel& model, const SiameseBatch& batch) {
  const AutocastScope autocast(model.device(), model.dtype());
  torch::NoGradGuard no_grad;
  ForwardInput original;
  original.input_ids = batch.input_ids;
  original.attention_mask = batch.attention_mask;
  original.adapter_rows.enabled = false;
  return model.forward_hidden(original);  // [B, T, d]
}

SiameseOutput siamese_memory(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                             const LlamaModel* original_copy) {
  ForwardInput tuned;
  tuned.input_ids = batch.input_ids;
  tuned.attention_mask = batch.attention_mask;
  SiameseOutput out;
  {
    const AutocastScope autocast(model.device(), model.dtype());  // CUDA + bf16/f16: the streams in mixed precision
    out.h_Mp = model.forward_hidden(tuned);  // [B, T, d], with autograd through the adapters
  }
  if (gate == nullptr) {
    out.h_N = out.h_Mp;  // the PEFT method alone
    return out;
  }
  out.h_M = original_memory(original_copy ? *original_copy : model, batch);  // [B, T, d], no activations kept
  // The gate below: fp32, outside autocast.
  torch::Tensor q_M, q_Mp;  // [B, d], once per sequence: the query variant's
  if (gate->uses_query()) {
    q_M = query_mean(out.h_M, batch.query_len);
    q_Mp = query_mean(out.h_Mp, batch.query_len);
  }
  out.h_N = gate->mix(out.h_M, out.h_Mp, q_M, q_Mp, &out.gate).to(model.dtype());  // [B, T, d]
  return out;
}

}  // namespace imsm
