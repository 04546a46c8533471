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

namespace {

void quantize_input_portable(const float* x, int64_t n, BlockQ8* out) {
  for (int64_t b = 0; b < q8_blocks(n); ++b) {
    const int64_t len = std::min(kQ8Block, n - b * kQ8Block);
    float amax = 0.0f;
    for (int64_t j = 0; j < len; ++j) amax = std::max(amax, std::fabs(x[b * kQ8Block + j]));
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    out[b].d = float_to_half(amax / 127.0f);
    for (int64_t j = 0; j < kQ8Block; ++j) out[b].q[j] = static_cast<int8_t>(j < len ? std::nearbyint(x[b * kQ8Block + j] * id) : 0.0f);
  }
}

// Whole blocks of 32: four registers, their largest |x|, scaled, rounded,
// packed to bytes (the packs interleave 128-bit lanes; the permute restores the order).
__attribute__((target("avx2,fma,f16c"))) void quantize_input_avx2(const float* x, int64_t n, BlockQ8* out) {
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
    out[b].d = static_cast<uint16_t>(_cvtss_sh(max_abs / 127.0f, 0));
    const __m256 id = _mm256_set1_ps(max_abs != 0.0f ? 127.0f / max_abs : 0.0f);
    __m256i i[4];
    for (int j = 0; j < 4; ++j) i[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[j], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].q), _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  if (whole * kQ8Block < n) quantize_input_portable(x + whole * kQ8Block, n - whole * kQ8Block, out + whole);
}

}  // namespace

void quantize_input_q8_0(const float* x, int64_t n, BlockQ8* out, Q8Kernel kernel) {
  if (kernel == Q8Kernel::Portable) return quantize_input_portable(x, n, out);
  quantize_input_avx2(x, n, out);
}

void dequantize_row_q8_0(const BlockQ8* row, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = half_to_float(row[i / kQ8Block].d) * static_cast<float>(row[i / kQ8Block].q[i % kQ8Block]);
}

Q8Matrix quantize_matrix_q8_0(const float* w, int64_t rows, int64_t cols) {
  Q8Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.blocks.resize(static_cast<size_t>(rows * q8_blocks(cols)));
  for (int64_t r = 0; r < rows; ++r) quantize_row_q8_0(w + r * cols, cols, m.blocks.data() + r * q8_blocks(cols));
  return m;
}

namespace {

// Σ over blocks of d_w · d_x · Σ_j q_w[j] q_x[j].
float dot_portable(const BlockQ8* w, const BlockQ8* x, int64_t blocks) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b) {
    int32_t s = 0;
    for (int64_t j = 0; j < kQ8Block; ++j) s += static_cast<int32_t>(w[b].q[j]) * static_cast<int32_t>(x[b].q[j]);
    sum += half_to_float(w[b].d) * half_to_float(x[b].d) * static_cast<float>(s);
  }
  return sum;
}

// The 8 int32 partial sums of one block's 32 products, from |w| (unsigned)
// and x with w's sign: maddubs pairs them into int16 (at most 2 · 127 · 127,
// no saturation: q is never -128), madd into int32.
__attribute__((target("avx2,fma,f16c"))) inline __m256i block_products_avx2(const BlockQ8& w, const BlockQ8& x) {
  const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.q));
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q));
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni"))) inline __m256i block_products_vnni(const BlockQ8& w,
                                                                                                        const BlockQ8& x) {
  const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.q));
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.q));
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
}

__attribute__((target("avx2,fma,f16c"))) inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

__attribute__((target("avx2,fma,f16c"))) inline __m256 scale_of(const BlockQ8& w, const BlockQ8& x) {
  return _mm256_set1_ps(_cvtsh_ss(w.d) * _cvtsh_ss(x.d));
}

// Four accumulators over the blocks in turn (the FMA's latency), summed at
// the end. A macro, not a template: each copy must compile under its own
// target (a call across targets would not inline).
#define IMSM_Q8_DOT_BODY(products)                                                                          \
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};    \
  int64_t b = 0;                                                                                           \
  for (; b + 4 <= blocks; b += 4)                                                                          \
    for (int j = 0; j < 4; ++j)                                                                            \
      acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(w[b + j], x[b + j])), scale_of(w[b + j], x[b + j]), acc[j]); \
  for (; b < blocks; ++b) acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(w[b], x[b])), scale_of(w[b], x[b]), acc[0]); \
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));

__attribute__((target("avx2,fma,f16c"))) float dot_avx2(const BlockQ8* w, const BlockQ8* x, int64_t blocks) {
  IMSM_Q8_DOT_BODY(block_products_avx2)
}

__attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni"))) float dot_vnni(const BlockQ8* w, const BlockQ8* x,
                                                                                     int64_t blocks) {
  IMSM_Q8_DOT_BODY(block_products_vnni)
}
#undef IMSM_Q8_DOT_BODY

using DotFn = float (*)(const BlockQ8*, const BlockQ8*, int64_t);

DotFn dot_of(Q8Kernel kernel) {
  switch (kernel) {
    case Q8Kernel::Avx512Vnni: return dot_vnni;
    case Q8Kernel::Avx2: return dot_avx2;
    case Q8Kernel::Portable: break;
  }
  return dot_portable;
}

bool runs_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"); }
bool runs_vnni() { return runs_avx2() && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"); }

}  // namespace

std::string q8_kernel_name(Q8Kernel kernel) {
  switch (kernel) {
    case Q8Kernel::Avx512Vnni: return "avx512-vnni";
    case Q8Kernel::Avx2: return "avx2";
    case Q8Kernel::Portable: break;
  }
  return "portable";
}

std::vector<Q8Kernel> q8_kernels_here() {
  std::vector<Q8Kernel> out = {Q8Kernel::Portable};
  if (runs_avx2()) out.push_back(Q8Kernel::Avx2);
  if (runs_vnni()) out.push_back(Q8Kernel::Avx512Vnni);
  return out;
}

Q8Kernel q8_best_kernel() {
  const char* cap = std::getenv("ATEN_CPU_CAPABILITY");
  const std::string capability = cap != nullptr ? cap : "";
  if (capability == "default") return Q8Kernel::Portable;
  const Q8Kernel best = q8_kernels_here().back();
  return capability == "avx2" && best == Q8Kernel::Avx512Vnni ? Q8Kernel::Avx2 : best;
}

void q8_matmul_rows(const Q8Matrix& w, const BlockQ8* x, int64_t n_x, float* y, int64_t row_begin, int64_t row_end,
                    Q8Kernel kernel) {
  const DotFn dot = dot_of(kernel);
  const int64_t blocks = q8_blocks(w.cols);
  for (int64_t r = row_begin; r < row_end; ++r)
    for (int64_t t = 0; t < n_x; ++t) y[t * w.rows + r] = dot(w.row(r), x + t * blocks, blocks);
}

}  // namespace imsm
