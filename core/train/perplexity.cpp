#include "train/perplexity.h"

#include <cmath>

#include "imsm/siamese.h"
#include "train/loss.h"
#include "train/batch.h"
#include "util/error.h"

namespace imsm {

PerplexityResult answer_perplexity(const LlamaModel& model, const ImsmGate* gate, const std::vector<EncodedExample>& data,
                                   int64_t batch_size, const Hooks& hooks) {
  torch::NoGradGuard no_grad;
  double nll_sum = 0;
  int64_t tokens = 0;
  for (size_t start = 0; start < data.size(); start += static_cast<size_t>(batch_size)) {
    hooks.check_abort("perplexity cancelled");
    const TrainBatch batch = collate_slice(data, start, batch_size, model.device());
    const size_t end = start + static_cast<size_t>(batch.ids.size(0));
    const SiameseOutput out = siamese_forward(model, gate, {batch.ids, batch.mask, batch.query_len});
    nll_sum += causal_lm_loss(out.logits, batch.labels, LossReduction::SumFp64).item<double>();
    tokens += batch.labels.narrow(1, 1, batch.labels.size(1) - 1).ne(-100).sum().item<int64_t>();  // the scored targets
    hooks.progress({"perplexity", static_cast<int64_t>(end), static_cast<int64_t>(data.size())});
  }
  PerplexityResult r;
  r.tokens = tokens;
  r.mean_nll = tokens ? nll_sum / static_cast<double>(tokens) : 0;
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

}  // namespace imsm
