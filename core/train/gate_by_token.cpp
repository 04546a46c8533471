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
    std::vector<const EncodedExample*> rows;
    for (size_t i = start; i < std::min(data.size(), start + static_cast<size_t>(batch_size)); ++i) rows.push_back(&data[i]);
    const TrainBatch batch = collate(rows, model.device());
    const SiameseOutput mixed = siamese_memory(model, &gate, {batch.ids, batch.mask, batch.query_len});
    const torch::Tensor g = mixed.gate.to(torch::kFloat32).mean(-1).to(torch::kCPU).contiguous();  // [B, T]
    for (size_t b = 0; b < rows.size(); ++b) {
      const float* row = g[static_cast<int64_t>(b)].data_ptr<float>();
      out.emplace_back(row, row + static_cast<std::ptrdiff_t>(rows[b]->ids.size()) - 1);  // right-padded: the row's own positions
    }
    hooks.progress({"gate", static_cast<int64_t>(start + rows.size()), static_cast<int64_t>(data.size())});
  }
  return out;
}

}  // namespace imsm
