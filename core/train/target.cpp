#include "train/target.h"

#include <set>

#include "imsm/siamese.h"
#include "train/chunked_loss.h"
#include "train/ewc.h"
#include "train/kl_penalty.h"
#include "train/memory_cache.h"
#include "train/loss.h"

namespace imsm {

std::vector<NamedParameter> SiameseTarget::parameters() const {
  std::vector<NamedParameter> named;
  for (const auto& [name, t] : adapters_.named_parameters()) named.push_back({name, *t});
  if (gate_)
    for (const auto& [name, t] : gate_->named_parameters()) named.push_back({name, t, gate_lr_scale_});
  return named;
}

torch::Tensor SiameseTarget::frozen_memory(const SiameseBatch& batch) const {
  return cache_ ? cache_->original_memory(model_, batch) : original_memory(model_, batch);  // [B, T, d]
}

torch::Tensor SiameseTarget::nll_of(const TrainBatch& batch, SiameseOutput& out) const {
  SiameseBatch b{batch.ids, batch.mask, batch.query_len};
  if (gate_ && cache_) b.h_M = frozen_memory(b);  // [B, T, d]: read, or computed and kept
  if (loss_chunk_ > 0) {
    out = siamese_memory(model_, gate_, b);
    return chunked_causal_lm_loss(out.h_N, model_.lm_head_weight(), batch.labels, loss_chunk_);  // scalar
  }
  out = siamese_forward(model_, gate_, b);
  return causal_lm_loss(out.logits, batch.labels);  // scalar
}

torch::Tensor SiameseTarget::answer_nll(const TrainBatch& batch) const {
  SiameseOutput out;
  return nll_of(batch, out);
}

torch::Tensor SiameseTarget::loss(const TrainBatch& batch) const {
  SiameseOutput out;
  torch::Tensor loss = nll_of(batch, out);                            // scalar
  const torch::Tensor regularization = adapters_.regularization_loss();  // AdaLoRA's orthogonality term
  if (regularization.defined()) loss = loss + regularization;
  if (penalties_.kl_lambda > 0) {  // the original stream: IMSM's own, else run here
    const torch::Tensor h_M = out.h_M.defined() ? out.h_M : frozen_memory({batch.ids, batch.mask, batch.query_len});  // [B, T, d]
    loss = loss + penalties_.kl_lambda * kl_to_original(h_M, out.h_N, model_.lm_head_weight(), batch.labels);
  }
  if (penalties_.ewc_lambda > 0 && penalties_.ewc) loss = loss + penalties_.ewc_lambda * ewc_penalty(*penalties_.ewc, parameters());
  return loss;
}

void SiameseTarget::set_training(bool training) {
  adapters_.set_training(training);
  if (gate_) gate_->set_training(training);
}

FullWeights::FullWeights(LlamaModel& model) : model_(model) {
  std::set<const void*> seen;
  for (auto& [name, t] : model.named_weights()) {
    if (!seen.insert(t.data_ptr()).second) continue;  // a tied weight once
    t.requires_grad_(true);
    params_.push_back({name, t});
  }
}

FullWeights::~FullWeights() {
  for (auto& p : params_) p.tensor.requires_grad_(false);
}

torch::Tensor FullWeights::loss(const TrainBatch& batch) const {
  ForwardInput in;
  in.input_ids = batch.ids;       // [B, T]
  in.attention_mask = batch.mask;  // [B, T]
  return causal_lm_loss(model_.forward(in), batch.labels);  // scalar
}

}  // namespace imsm
