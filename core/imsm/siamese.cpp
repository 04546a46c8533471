#include "imsm/siamese.h"

#include <optional>

#include "model/device.h"
#include "util/error.h"

namespace imsm {

namespace {
// The original stream of `input` (from its lower_hidden when set): h_M [B, T, d], adapters off, no autograd.
torch::Tensor original_from(const LlamaModel& model, ForwardInput input) {
  const AutocastScope autocast(model.device(), model.dtype());
  torch::NoGradGuard no_grad;
  input.adapter_rows.enabled = false;
  return model.forward_hidden(input);  // [B, T, d]
}
}  // namespace

SiameseOutput siamese_forward(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                              const LlamaModel* original_copy) {
  SiameseOutput out = siamese_memory(model, gate, batch, original_copy);
  std::optional<AutocastScope> autocast;  // the PEFT method alone: the head in the tuned stream's autocast, as the stream it ends
  if (gate == nullptr) autocast.emplace(model.device(), model.dtype());
  out.logits = model.lm_head(out.h_N);  // [B, T, vocab]: the frozen head on the (mixed) memory
  return out;
}

torch::Tensor original_memory(const LlamaModel& model, const SiameseBatch& batch) {
  ForwardInput original;
  original.input_ids = batch.input_ids;
  original.attention_mask = batch.attention_mask;
  return original_from(model, original);  // [B, T, d]
}

SiameseOutput siamese_memory(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                             const LlamaModel* original_copy) {
  ForwardInput tuned;
  tuned.input_ids = batch.input_ids;
  tuned.attention_mask = batch.attention_mask;
  const bool original_here = gate != nullptr && !batch.h_M.defined();  // the original stream runs in this call
  const int64_t k = model.first_adapted_layer();
  if (original_here && original_copy == nullptr && k > 0) {  // below layer k both streams are this one computation
    const AutocastScope autocast(model.device(), model.dtype());
    torch::NoGradGuard no_grad;  // frozen below the first adapter
    tuned.lower_hidden = model.lower_layers(tuned, k);  // [B, T, d]
    tuned.from_layer = k;
  }
  SiameseOutput out;
  if (gate != nullptr)  // the original stream first: its activations are gone before the tuned stream keeps its own
    out.h_M = batch.h_M.defined() ? batch.h_M : original_from(original_copy ? *original_copy : model, tuned);  // [B, T, d]
  {
    const AutocastScope autocast(model.device(), model.dtype());  // CUDA + bf16/f16: the streams in mixed precision
    out.h_Mp = model.forward_hidden(tuned);  // [B, T, d], with autograd through the adapters
  }
  if (gate == nullptr) {
    out.h_N = out.h_Mp;  // the PEFT method alone
    return out;
  }
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
