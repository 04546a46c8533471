#include "model/kv_cache.h"

namespace imsm {

std::pair<torch::Tensor, torch::Tensor> KVCache::append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v) {
  const int64_t t = k.size(2), need = length_ + t;
  torch::Tensor& kc = k_[layer];
  torch::Tensor& vc = v_[layer];
  if (!kc.defined() || kc.size(2) < need) {
    const int64_t capacity = std::max<int64_t>(need, kc.defined() ? 2 * kc.size(2) : std::max<int64_t>(need, 64));
    auto grow = [&](torch::Tensor& cache, const torch::Tensor& like) {
      torch::Tensor bigger = torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());
      if (cache.defined() && length_ > 0) bigger.narrow(2, 0, length_).copy_(cache.narrow(2, 0, length_));
      cache = bigger;  // [B, KV, capacity, hd]
    };
    grow(kc, k);
    grow(vc, v);
  }
  kc.narrow(2, length_, t).copy_(k);
  vc.narrow(2, length_, t).copy_(v);
  return {kc.narrow(2, 0, need), vc.narrow(2, 0, need)};  // [B, KV, length + T, hd]
}

void KVCache::select_rows(const torch::Tensor& rows) {
  for (auto* list : {&k_, &v_})
    for (auto& t : *list)
      if (t.defined()) t = t.index_select(0, rows.to(t.device()));  // [R, KV, capacity, hd]
}

void KVCache::keep_rows(const torch::Tensor& rows, int64_t B) {
  for (auto* list : {&k_, &v_})
    for (auto& t : *list) {
      if (!t.defined()) continue;
      std::vector<torch::Tensor> parts;  // one per stream of B rows
      for (int64_t j = 0; j < t.size(0) / B; ++j) parts.push_back(rows + j * B);
      t = t.index_select(0, torch::cat(parts).to(t.device()));  // [m · R, KV, capacity, hd]
    }
}

void KVCache::repeat_each_row(int64_t copies) {
  for (auto* list : {&k_, &v_})
    for (auto& t : *list)
      if (t.defined()) t = t.repeat_interleave(copies, 0);  // [R · copies, KV, capacity, hd]
}

void KVCache::clear() {
  for (auto& t : k_) t = torch::Tensor();
  for (auto& t : v_) t = torch::Tensor();
  length_ = 0;
}

}  // namespace imsm
