// Data parallelism for the training loop over a c10d process group
// (dist/process_group.h). `batch_size` stays the global batch: every rank
// walks the same shuffled global micro-batches and takes its shard of each
// (every world-th row from its rank); its loss is weighted by its share of the
// global micro-batch's scored tokens, so the ranks' losses add up to the loss
// of the whole global batch (weighted by answer tokens, not a mean of means).
// Once per optimizer step the gradients of the trainable parameters are
// summed over the ranks in buckets, then the step's loss, its tokens and the
// ranks' votes to stop (one small fp64 all-reduce).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "dist/process_group.h"
#include "train/dataset.h"

namespace imsm {

// The rows of a global micro-batch this rank trains on.
std::vector<size_t> shard(const std::vector<size_t>& global, int rank, int world);

// Positions whose next token is scored (labels[t + 1] != -100): what the loss averages over.
int64_t scored_tokens(const EncodedExample& e);

struct StepSums {
  double loss = 0;     // the global batch's loss
  int64_t tokens = 0;  // tokens of the global batch
  bool stop = false;   // some rank was asked to stop
};

// Sums the gradients of `params` over the ranks, in place (an undefined
// gradient counts as zeros and becomes defined), in buckets of at most
// `bucket_bytes`; then this rank's loss, tokens and stop vote with the others'.
StepSums all_reduce_step(dist::ProcessGroup& group, const std::vector<torch::Tensor>& params, double loss, int64_t tokens, bool stop,
                         int64_t bucket_bytes = 25 << 20);

}  // namespace imsm
