#include "train/gate_by_token.h"

#include "imsm/siamese.h"
#include "train/batch.h"

namespace imsm {

std::vector<std::vector<float>> gate_by_token(const LlamaModel& model, const ImsmGate& gate, const std::vector<EncodedExample>& data,
                                              int64_t batch_size, const Hooks& hooks) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<float>> out;
  for (size_t start = 0; start < data.size(); start += static_cast<size_t>(batch_size)) {
    hooks.check_abort("gate summary cancelled");
    const TrainBatch batch = collate_slice(data, start, batch_size, model.device());
    const size_t end = start + static_cast<size_t>(batch.ids.size(0));
    const SiameseOutput mixed = siamese_memory(model, &gate, {batch.ids, batch.mask, batch.query_len});
    const torch::Tensor g = mixed.gate.to(torch::kFloat32).mean(-1).to(torch::kCPU).contiguous();  // [B, T]
    for (size_t i = start; i < end; ++i) {
      const float* row = g[static_cast<int64_t>(i - start)].data_ptr<float>();
      out.emplace_back(row, row + static_cast<std::ptrdiff_t>(data[i].ids.size()) - 1);  // right-padded: the row's own positions
    }
    hooks.progress({"gate", static_cast<int64_t>(end), static_cast<int64_t>(data.size())});
  }
  return out;
}

}  // namespace imsm
