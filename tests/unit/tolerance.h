// How far two fp32 computations of the same function may differ in a test.
//
// The CPU changes between machines (AMD EPYC with AVX2 or AVX-512, Intel Xeon
// with AMX) and so do the kernels oneDNN, MKL and ATen pick on it
// (ATEN_CPU_CAPABILITY=avx2|default picks others on the same machine): sums
// are taken in other orders, products fused or not. A result that is not
// computed by the same operations in the same order therefore differs by
// rounding, whose size is relative to the values' magnitude, never absolute.
// Every bound here is a number of fp32 ulps at `scale`, the largest |value|
// compared (or the magnitude of the quantity), and each call site says why
// that many.
//
// The usual numbers:
//  - kWholeModel (1024 ulps, 1.2e-4 relative): logits or hidden states of a
//    whole forward pass (a few layers of norms, reductions over 32-160 terms
//    and a softmax over the sequence), computed two ways. Measured worst
//    here: ~300 ulps (rsLoRA export on an AMX Xeon, 1.0e-4 at logits ~12).
//    A wrong term (a missing bias, a wrong RoPE frequency, a wrong adapter
//    scale) moves logits by percents: 100x more.
//  - kFewOps (64 ulps): one layer or a handful of fused operations.
#pragma once
#include <cstdint>

namespace imsm::testing {

constexpr double kFp32Epsilon = 1.1920928955078125e-07;  // 2^-23: one ulp at 1.0
constexpr double kWholeModel = 1024;
constexpr double kFewOps = 64;

// `ulps` ulps of fp32 at magnitude `scale`.
constexpr double fp32_ulps(double ulps, double scale) { return ulps * kFp32Epsilon * scale; }

}  // namespace imsm::testing
