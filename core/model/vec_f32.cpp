#include "model/vec_f32.h"

#include <immintrin.h>

#include "model/q8_0.h"

namespace imsm {

namespace {

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  float sum = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// 32 columns at a time held in four registers over every row, then the tail.
__attribute__((target("avx2,fma"))) void weighted_sum_avx2(const float* p, const float* rows, int64_t count, int64_t stride, int64_t n,
                                                          float* out) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t s = 0; s < count; ++s) {
      const __m256 ps = _mm256_set1_ps(p[s]);
      for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(ps, _mm256_loadu_ps(rows + s * stride + i + 8 * j), acc[j]);
    }
    for (int j = 0; j < 4; ++j) _mm256_storeu_ps(out + i + 8 * j, acc[j]);
  }
  for (; i < n; ++i) {
    float sum = 0;
    for (int64_t s = 0; s < count; ++s) sum += p[s] * rows[s * stride + i];
    out[i] = sum;
  }
}

bool use_avx2() {
  static const bool avx2 = q8_best_kernel() != Q8Kernel::Portable;  // the same CPU test and cap
  return avx2;
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) {
  if (use_avx2()) return dot_avx2(a, b, n);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void weighted_sum_f32(const float* p, const float* rows, int64_t count, int64_t stride, int64_t n, float* out) {
  if (use_avx2()) return weighted_sum_avx2(p, rows, count, stride, n, out);
  for (int64_t i = 0; i < n; ++i) {
    float sum = 0;
    for (int64_t s = 0; s < count; ++s) sum += p[s] * rows[s * stride + i];
    out[i] = sum;
  }
}

}  // namespace imsm
