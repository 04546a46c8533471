#include "model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

// at::parallel_for's OpenMP loop compiles here: without -fopenmp it would run on one thread.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "compile this file with OpenMP (core/CMakeLists.txt: the files that call at::parallel_for)"
#endif

#include <mutex>

namespace imsm {

namespace {

// SplitMix64's output function of the counter seed + (i + 1) · γ: a
// well-mixed 64-bit value per element, independent across elements.
inline uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t draw_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0) return x;
  if (!x.device().is_cpu() || p >= 1) return torch::dropout(x, p, training);
  const uint64_t seed = draw_seed();
  const auto threshold = static_cast<uint64_t>(p * 18446744073709551616.0);  // p · 2⁶⁴ (< 2⁶⁴ for p < 1)
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  // A byte per element: where() keeps only the mask for the backward (a float mask, as x * mask, kept 4 bytes).
  torch::Tensor keep = torch::empty(x.sizes(), x.options().dtype(torch::kBool).requires_grad(false));  // x's shape
  bool* k = keep.data_ptr<bool>();
  at::parallel_for(0, keep.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) k[i] = mix(seed, static_cast<uint64_t>(i)) >= threshold;
  });
  return torch::where(keep, x * scale, 0.0);  // x's shape
}

}  // namespace imsm
