// Choosing the next token from logits: greedy, or temperature / top-k / top-p
// sampling with a seeded generator. Plain C++ over one row of logits, so the
// same seed gives the same tokens on every device.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace imsm {

struct SamplingOptions {
  double temperature = 0.0;  // 0: greedy
  int top_k = 0;             // 0: off
  double top_p = 1.0;        // 1: off
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {}
  // logits: one row, [vocab] fp32.
  int32_t next(const float* logits, int64_t vocab);

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace imsm
