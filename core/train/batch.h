// Training batches: which examples make each micro-batch of an epoch (a seeded
// shuffle, the same with every standard library; optionally grouped by
// length), and right-padding a micro-batch into tensors.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "train/dataset.h"

namespace imsm {

// Right-padded examples: ids [B, T], mask [B, T], labels [B, T] (-100 on padding), query_len [B].
struct TrainBatch {
  torch::Tensor ids, mask, labels, query_len;
  int64_t tokens = 0;
};
TrainBatch collate(const std::vector<const EncodedExample*>& examples, torch::Device device);
// data[start, start + count) collated (fewer rows at the end of data): the
// batches of a pass over a set in order (perplexity, KL, the gate summary).
TrainBatch collate_slice(const std::vector<EncodedExample>& data, size_t start, int64_t count, torch::Device device);

// The micro-batches of one epoch as indices into `data`: a shuffle seeded by
// `seed` cut into batches of `batch_size` (the last may be short). With
// group_by_length, each window of 32 batches is sorted by length first (little
// padding) and the batches are then shuffled (seed + 1): what pretraining uses.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& data, int64_t batch_size, uint64_t seed,
                                               bool group_by_length);

}  // namespace imsm
