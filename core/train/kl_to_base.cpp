#include "train/kl_to_base.h"

#include <cmath>

#include "imsm/siamese.h"
#include "train/batch.h"
#include "train/kl_penalty.h"

namespace imsm {

KlToBase kl_to_base(const LlamaModel& model, const ImsmGate* gate, const std::vector<EncodedExample>& data, int64_t batch_size,
                    const Hooks& hooks) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  std::vector<double> example_means;
  KlToBase r;
  for (size_t start = 0; start < data.size(); start += static_cast<size_t>(batch_size)) {
    hooks.check_abort("KL cancelled");
    const TrainBatch batch = collate_slice(data, start, batch_size, model.device());
    const size_t end = start + static_cast<size_t>(batch.ids.size(0));
    const SiameseBatch b{batch.ids, batch.mask, batch.query_len};
    const SiameseOutput out = siamese_memory(model, gate, b);
    const torch::Tensor h_M = out.h_M.defined() ? out.h_M : original_memory(model, b);                    // [B, T, d]
    const torch::Tensor kl = kl_at_scored(h_M, out.h_N, model.lm_head_weight(), batch.labels).to(torch::kFloat64);  // [N]
    const torch::Tensor per_row = batch.labels.narrow(1, 1, batch.labels.size(1) - 1).ne(-100).sum(1).to(torch::kCPU);  // [B]
    int64_t offset = 0;  // kl holds row 0's scored positions, then row 1's, ...
    for (int64_t b = 0; b < per_row.size(0); ++b) {
      const int64_t n = per_row[b].item<int64_t>();
      if (n == 0) continue;
      const double row_sum = kl.narrow(0, offset, n).sum().item<double>();
      sum += row_sum;
      example_means.push_back(row_sum / static_cast<double>(n));
      r.tokens += n;
      offset += n;
    }
    hooks.progress({"kl", static_cast<int64_t>(end), static_cast<int64_t>(data.size())});
  }
  r.examples = static_cast<int64_t>(example_means.size());
  r.mean = r.tokens > 0 ? sum / static_cast<double>(r.tokens) : 0;
  if (r.examples > 1) {
    double m = 0, ss = 0;
    for (const double v : example_means) m += v / static_cast<double>(r.examples);
    for (const double v : example_means) ss += (v - m) * (v - m);
    r.std_error = std::sqrt(ss / static_cast<double>(r.examples - 1) / static_cast<double>(r.examples));
  }
  return r;
}

}  // namespace imsm
