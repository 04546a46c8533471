#include "model/q8_0.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "util/half.h"

namespace imsm {

int64_t q8_blocks(int64_t n) { return (n + kQ8Block - 1) / kQ8Block; }

void quantize_row_q8_0(const float* x, int64_t n, BlockQ8* out) {
  for (int64_t b = 0; b < q8_blocks(n); ++b) {
    float v[kQ8Block] = {};  // the row's tail past n counts as 0
    std::memcpy(v, x + b * kQ8Block, sizeof(float) * static_cast<size_t>(std::min(kQ8Block, n - b * kQ8Block)));
    float amax = 0.0f;
    for (const float e : v) amax = std::max(amax, std::fabs(e));
    const float d = amax / 127.0f;  // ggml's quantize_row_q8_0_ref, operation for operation
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = float_to_half(d);
    for (int64_t j = 0; j < kQ8Block; ++j) out[b].q[j] = static_cast<int8_t>(std::roundf(v[j] * id));
  }
}

// ------------------------------------------------------------------ the matrix

Q8Matrix::Q8Matrix(int64_t rows, int64_t cols) : rows_(rows), cols_(cols), blocks_(q8_blocks(cols)) {
  q_.resize(static_cast<size_t>(rows * blocks_ * kQ8Block));
  d_.resize(static_cast<size_t>(rows * blocks_));
}

Q8Matrix::Q8Matrix(const float* w, int64_t rows, int64_t cols) : Q8Matrix(rows, cols) {
  for (int64_t r = 0; r < rows; ++r) set_row(r, w + r * cols);
}

void Q8Matrix::set_row(int64_t r, const float* x) {
  std::vector<BlockQ8> row(static_cast<size_t>(blocks_));
  quantize_row_q8_0(x, cols_, row.data());
  for (int64_t b = 0; b < blocks_; ++b) {
    d_[static_cast<size_t>(r * blocks_ + b)] = row[static_cast<size_t>(b)].d;
    std::memcpy(q_.data() + (r * blocks_ + b) * kQ8Block, row[static_cast<size_t>(b)].q, kQ8Block);
  }
}

BlockQ8 Q8Matrix::block(int64_t r, int64_t b) const {
  BlockQ8 out;
  out.d = d(r)[b];
  std::memcpy(out.q, q(r) + b * kQ8Block, kQ8Block);
  return out;
}

void Q8Matrix::dequantize_row(int64_t r, float* out) const {
  for (int64_t i = 0; i < cols_; ++i) out[i] = half_to_float(d(r)[i / kQ8Block]) * static_cast<float>(q(r)[i]);
}

// ------------------------------------------------------------- the inputs

namespace {

void quantize_input_portable(const float* x, int64_t n, int8_t* q, float* d) {
  for (int64_t b = 0; b < q8_blocks(n); ++b) {
    const int64_t len = std::min(kQ8Block, n - b * kQ8Block);
    float amax = 0.0f;
    for (int64_t j = 0; j < len; ++j) amax = std::max(amax, std::fabs(x[b * kQ8Block + j]));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    d[b] = half_to_float(float_to_half(amax / 127.0f));
    for (int64_t j = 0; j < kQ8Block; ++j) q[b * kQ8Block + j] = static_cast<int8_t>(j < len ? std::nearbyint(x[b * kQ8Block + j] * id) : 0.0f);
  }
}

// Whole blocks of 32: four registers, their largest |x|, scaled, rounded,
// packed to bytes (the packs interleave 128-bit lanes; the permute restores the order).
__attribute__((target("avx2,fma,f16c"))) void quantize_input_avx2(const float* x, int64_t n, int8_t* q, float* d) {
  const int64_t whole = n / kQ8Block;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < whole; ++b) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + b * kQ8Block + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[j]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    const float max_abs = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    d[b] = _cvtsh_ss(static_cast<uint16_t>(_cvtss_sh(max_abs / 127.0f, 0)));
    const __m256 id = _mm256_set1_ps(max_abs != 0.0f ? 127.0f / max_abs : 0.0f);
    __m256i i[4];
    for (int j = 0; j < 4; ++j) i[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[j], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * kQ8Block), _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  if (whole * kQ8Block < n) quantize_input_portable(x + whole * kQ8Block, n - whole * kQ8Block, q + whole * kQ8Block, d + whole);
}

}  // namespace

void quantize_input_q8_0(const float* x, int64_t count, int64_t n, Q8Input& out, Q8Kernel kernel) {
  out.count = count;
  out.blocks = q8_blocks(n);
  out.q.resize(static_cast<size_t>(count * out.blocks * kQ8Block));
  out.d.resize(static_cast<size_t>(count * out.blocks));
  for (int64_t t = 0; t < count; ++t) {
    int8_t* q = out.q.data() + t * out.blocks * kQ8Block;
    float* d = out.d.data() + t * out.blocks;
    if (kernel == Q8Kernel::Portable) quantize_input_portable(x + t * n, n, q, d);
    else quantize_input_avx2(x + t * n, n, q, d);
  }
}

}  // namespace imsm
