#include "eval/perplexity.h"

#include <cmath>

#include "imsm/siamese.h"
#include "train/trainer.h"
#include "util/error.h"

namespace imsm {

PerplexityResult answer_perplexity(const LlamaModel& model, const ImsmGate* gate, GateVariant variant,
                                   const std::vector<EncodedExample>& data, int64_t batch_size,
                                   const std::function<void(int64_t, int64_t)>& on_batch, const std::function<bool()>& should_abort) {
  torch::NoGradGuard no_grad;
  double nll_sum = 0;
  int64_t tokens = 0;
  for (size_t start = 0; start < data.size(); start += static_cast<size_t>(batch_size)) {
    if (should_abort && should_abort()) throw Error(ErrorKind::Cancelled, "perplexity cancelled");
    std::vector<const EncodedExample*> rows;
    for (size_t i = start; i < std::min(data.size(), start + static_cast<size_t>(batch_size)); ++i) rows.push_back(&data[i]);
    const TrainBatch batch = collate(rows, model.device());
    const SiameseOutput out = siamese_forward(model, gate, variant, {batch.ids, batch.mask, batch.query_len});
    const int64_t V = out.logits.size(-1), T = out.logits.size(1);
    const torch::Tensor predicted = out.logits.narrow(1, 0, T - 1).reshape({-1, V}).to(torch::kFloat64);  // [B*(T-1), V]
    const torch::Tensor target = batch.labels.narrow(1, 1, T - 1).reshape({-1});                          // [B*(T-1)]
    nll_sum += torch::nn::functional::cross_entropy(
                   predicted, target, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum))
                   .item<double>();
    tokens += target.ne(-100).sum().item<int64_t>();
    if (on_batch) on_batch(static_cast<int64_t>(start + rows.size()), static_cast<int64_t>(data.size()));
  }
  PerplexityResult r;
  r.tokens = tokens;
  r.mean_nll = tokens ? nll_sum / static_cast<double>(tokens) : 0;
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

}  // namespace imsm
