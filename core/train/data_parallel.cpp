#include "train/data_parallel.h"

#include <cmath>

namespace imsm {

std::vector<size_t> shard(const std::vector<size_t>& global, int rank, int world) {
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < global.size(); i += static_cast<size_t>(world)) mine.push_back(global[i]);
  return mine;
}

int64_t scored_tokens(const EncodedExample& e) {
  int64_t n = 0;
  for (size_t t = 1; t < e.labels.size(); ++t) n += e.labels[t] != -100;
  return n;
}

namespace {

// Sums one bucket of gradients over the ranks, in place.
void reduce_bucket(dist::ProcessGroup& group, const std::vector<torch::Tensor>& grads) {
  if (grads.empty()) return;
  std::vector<torch::Tensor> flat;
  for (const auto& g : grads) flat.push_back(g.reshape({-1}));
  torch::Tensor bucket = torch::cat(flat);  // [sum of numels]
  group.all_reduce_sum(bucket);
  int64_t at = 0;
  for (const auto& g : grads) {
    g.copy_(bucket.narrow(0, at, g.numel()).view(g.sizes()));
    at += g.numel();
  }
}

}  // namespace

StepSums all_reduce_step(dist::ProcessGroup& group, const std::vector<torch::Tensor>& params, double loss, int64_t tokens, bool stop,
                         int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0;
  for (const auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    const torch::Tensor g = p.grad();
    if (!bucket.empty() && (bytes + static_cast<int64_t>(g.nbytes()) > bucket_bytes || g.scalar_type() != bucket.front().scalar_type())) {
      reduce_bucket(group, bucket);
      bucket.clear();
      bytes = 0;
    }
    bucket.push_back(g);
    bytes += static_cast<int64_t>(g.nbytes());
  }
  reduce_bucket(group, bucket);
  const auto device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  torch::Tensor sums = torch::tensor({loss, static_cast<double>(tokens), stop ? 1.0 : 0.0}, torch::kFloat64).to(device);  // [3]
  group.all_reduce_sum(sums);
  sums = sums.cpu();
  return {sums[0].item<double>(), static_cast<int64_t>(std::llround(sums[1].item<double>())), sums[2].item<double>() > 0.5};
}

}  // namespace imsm
