#include "train/batch.h"

#include <algorithm>
#include <numeric>

#include "data/shuffle.h"

namespace imsm {

TrainBatch collate(const std::vector<const EncodedExample*>& examples, torch::Device device) {
  const int64_t B = static_cast<int64_t>(examples.size());
  int64_t T = 0;
  for (const auto* e : examples) T = std::max<int64_t>(T, static_cast<int64_t>(e->ids.size()));
  TrainBatch b;
  b.ids = torch::zeros({B, T}, torch::kInt64);               // [B, T]
  b.mask = torch::zeros({B, T}, torch::kInt64);              // [B, T]
  b.labels = torch::full({B, T}, -100, torch::kInt64);       // [B, T]
  b.query_len = torch::zeros({B}, torch::kInt64);            // [B]
  auto ids = b.ids.accessor<int64_t, 2>(), mask = b.mask.accessor<int64_t, 2>(), labels = b.labels.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = *examples[r];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      ids[r][t] = e.ids[t];
      mask[r][t] = 1;
      labels[r][t] = e.labels[t];
    }
    b.query_len[r] = e.query_len;
    b.tokens += static_cast<int64_t>(e.ids.size());
  }
  b.ids = b.ids.to(device);
  b.mask = b.mask.to(device);
  b.labels = b.labels.to(device);
  return b;
}

TrainBatch collate_slice(const std::vector<EncodedExample>& data, size_t start, int64_t count, torch::Device device) {
  std::vector<const EncodedExample*> rows;
  for (size_t i = start; i < std::min(data.size(), start + static_cast<size_t>(count)); ++i) rows.push_back(&data[i]);
  return collate(rows, device);
}

namespace {

// Consecutive runs of `size` from order[from, to) (the last may be short).
void cut(const std::vector<size_t>& order, size_t from, size_t to, size_t size, std::vector<std::vector<size_t>>& batches) {
  for (size_t s = from; s < to; s += size)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(s), order.begin() + static_cast<std::ptrdiff_t>(std::min(to, s + size)));
}

}  // namespace

std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& data, int64_t batch_size, uint64_t seed,
                                               bool group_by_length) {
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), size_t{0});
  data::shuffle(order, seed);
  const size_t B = static_cast<size_t>(batch_size);
  std::vector<std::vector<size_t>> batches;
  if (!group_by_length) {
    cut(order, 0, order.size(), B, batches);
    return batches;
  }
  const size_t window = B * 32;
  for (size_t w = 0; w < order.size(); w += window) {
    const size_t end = std::min(order.size(), w + window);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(w), order.begin() + static_cast<std::ptrdiff_t>(end),
                     [&](size_t a, size_t b) { return data[a].ids.size() < data[b].ids.size(); });
    cut(order, w, end, B, batches);
  }
  data::shuffle(batches, seed + 1);
  return batches;
}

}  // namespace imsm
