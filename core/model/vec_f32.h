// The fp32 vector loops of q8_0 decoding's attention (model/q8_decoder.h):
// a dot product and a weighted sum of rows, in AVX2 + FMA where the CPU has them (within
// ATEN_CPU_CAPABILITY's cap, as model/q8_0.h chooses), else portable.
#pragma once
#include <cstdint>

namespace imsm {

float dot_f32(const float* a, const float* b, int64_t n);
// out[i] = Σ_s p[s] · rows[s · stride + i] for i < n: attention's weighted sum of values.
void weighted_sum_f32(const float* p, const float* rows, int64_t count, int64_t stride, int64_t n, float* out);

}  // namespace imsm
