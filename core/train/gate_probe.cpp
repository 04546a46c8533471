#include "train/gate_probe.h"

#include "imsm/siamese.h"

namespace imsm {

GateProbe probe_gate(const LlamaModel& model, PeftAdapters& adapters, ImsmGate& gate, const TrainBatch& batch) {
  torch::NoGradGuard no_grad;
  adapters.set_training(false);  // no dropout: no random draws
  gate.set_training(false);
  SiameseBatch in;
  in.input_ids = batch.ids;         // [B, T]
  in.attention_mask = batch.mask;   // [B, T]
  in.query_len = batch.query_len;   // [B]
  const SiameseOutput out = siamese_forward(model, &gate, in);
  adapters.set_training(true);
  gate.set_training(true);
  const int64_t T = batch.ids.size(1);
  if (!out.gate.defined() || T < 2) return {};
  // The gate at position t mixes the memories that predict token t + 1: count t where t + 1 is an answer token.
  const torch::Tensor full = out.gate.narrow(1, 0, T - 1).to(torch::kFloat64);                           // [B, T-1, D]
  const torch::Tensor g = full.mean(-1);                                                                   // [B, T-1]
  const torch::Tensor answer = batch.labels.narrow(1, 1, T - 1).ne(-100).to(g.device(), torch::kFloat64);  // [B, T-1]
  const double n = answer.sum().item<double>();
  if (n <= 0) return {};
  GateProbe probe;
  probe.mean = (g * answer).sum().item<double>() / n;
  const torch::Tensor per_dim = ((full * answer.unsqueeze(-1)).sum({0, 1}) / n).to(torch::kFloat32).cpu().contiguous();  // [D]
  probe.per_dim.assign(per_dim.data_ptr<float>(), per_dim.data_ptr<float>() + per_dim.numel());
  return probe;
}

}  // namespace imsm
