// Key/value cache for incremental decoding: per layer, keys and values of
// every position seen so far, grown by doubling.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace imsm {

class KVCache {
 public:
  explicit KVCache(int64_t num_layers) : k_(num_layers), v_(num_layers) {}

  // Stores k, v: [B, KV, T, hd] at positions [length, length + T) of `layer`
  // and returns all keys and values so far, each [B, KV, length + T, hd].
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k, const torch::Tensor& v);

  int64_t length() const { return length_; }  // positions already committed
  int64_t rows(int64_t layer) const { return k_[static_cast<size_t>(layer)].defined() ? k_[static_cast<size_t>(layer)].size(0) : 0; }
  void advance(int64_t steps) { length_ += steps; }  // called once per forward, after every layer
  void clear();
  // Keeps rows `rows` [R] int64 of every layer, in that order (a row may
  // repeat): a prompt's cache shared by several continuations.
  void select_rows(const torch::Tensor& rows);
  // Keeps rows `rows` [R] int64 of a batch of `batch` rows: a layer holding
  // m · batch rows (IMSM's upper layers: two streams of `batch` rows each)
  // keeps rows + j · batch for each j < m.
  void keep_rows(const torch::Tensor& rows, int64_t batch);
  // Repeats every layer's rows, each `copies` times in place (rows a, b ->
  // a…a, b…b): a prompt prefix run once, shared by `copies` prompts, whatever
  // rows a layer holds (IMSM's upper layers hold two streams).
  void repeat_each_row(int64_t copies);

 private:
  std::vector<torch::Tensor> k_, v_;  // [B, KV, capacity, hd]
  int64_t length_ = 0;
};

}  // namespace imsm
