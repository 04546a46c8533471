// The q8_0 dot products (model/q8_0.h): one weight row against one
// quantized vector, Σ_b d_w[b] · d_x[b] · Σ_j q_w[b, j] q_x[b, j].
#include <cpuid.h>
#include <immintrin.h>

#include <cstdlib>

#include "model/q8_0.h"
#include "util/half.h"

namespace imsm {

namespace {

float dot_portable(const int8_t* wq, const uint16_t* wd, const int8_t* xq, const float* xd, int64_t blocks) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b) {
    int32_t s = 0;
    for (int64_t j = 0; j < kQ8Block; ++j) s += static_cast<int32_t>(wq[b * kQ8Block + j]) * static_cast<int32_t>(xq[b * kQ8Block + j]);
    sum += half_to_float(wd[b]) * xd[b] * static_cast<float>(s);
  }
  return sum;
}

__attribute__((target("avx2,fma,f16c"))) inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// One block's 32 products as 8 int32 partial sums, from |w| (unsigned) and x
// with w's sign: maddubs pairs them into int16 (at most 2 · 127 · 127, no
// saturation: q is never -128), madd into int32.
__attribute__((target("avx2,fma,f16c"))) inline __m256i block_products(const int8_t* wq, const int8_t* xq) {
  const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq));
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// Four accumulators over the blocks in turn (the FMA's latency).
__attribute__((target("avx2,fma,f16c"))) float dot_avx2(const int8_t* wq, const uint16_t* wd, const int8_t* xq, const float* xd,
                                                        int64_t blocks) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256 scale = _mm256_set1_ps(_cvtsh_ss(wd[b]) * xd[b]);
    acc[b % 4] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_products(wq + b * kQ8Block, xq + b * kQ8Block)), scale, acc[b % 4]);
  }
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

// Two blocks' 64 products into 16 int32 (lanes 0-7 the first block, 8-15
// the second): |w| times x negated where w < 0 (w's sign bits as a mask), one
// dpbusd.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) inline __m512 pair_products(const int8_t* wq,
                                                                                                          const int8_t* xq) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i w = _mm512_loadu_si512(wq);
  const __m512i x = _mm512_loadu_si512(xq);
  const __m512i signed_x = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), zero, x);
  return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, _mm512_abs_epi8(w), signed_x));
}

// Eight blocks a round: their 8 scales in one register (the fp16 weights'
// converted at once, times the inputs'), spread over the two halves of each
// pair's register by a permute. Then pairs with their two scales broadcast,
// then a last odd block in 256 bits.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) float dot_vnni(const int8_t* wq, const uint16_t* wd,
                                                                                              const int8_t* xq, const float* xd,
                                                                                              int64_t blocks) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 8 <= blocks; b += 8) {
    const __m256 s8 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wd + b))), _mm256_loadu_ps(xd + b));
    const __m512 scales = _mm512_castps256_ps512(s8);
    for (int pair = 0; pair < 4; ++pair) {
      const int lo = 2 * pair, hi = 2 * pair + 1;
      const __m512i which = _mm512_set_epi32(hi, hi, hi, hi, hi, hi, hi, hi, lo, lo, lo, lo, lo, lo, lo, lo);
      __m512& acc = pair % 2 == 0 ? acc0 : acc1;
      acc = _mm512_fmadd_ps(pair_products(wq + (b + lo) * kQ8Block, xq + (b + lo) * kQ8Block), _mm512_permutexvar_ps(which, scales), acc);
    }
  }
  for (; b + 2 <= blocks; b += 2) {
    const __m512 scales = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(_cvtsh_ss(wd[b]) * xd[b]), _mm512_set1_ps(_cvtsh_ss(wd[b + 1]) * xd[b + 1]));
    acc0 = _mm512_fmadd_ps(pair_products(wq + b * kQ8Block, xq + b * kQ8Block), scales, acc0);
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < blocks) {
    const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq + b * kQ8Block))),
                                             _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * kQ8Block)),
                                                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wq + b * kQ8Block))));
    sum += _cvtsh_ss(wd[b]) * xd[b] * horizontal_sum(_mm256_cvtepi32_ps(sums));
  }
  return sum;
}

using DotFn = float (*)(const int8_t*, const uint16_t*, const int8_t*, const float*, int64_t);

DotFn dot_of(Q8Kernel kernel) {
  switch (kernel) {
    case Q8Kernel::Avx512Vnni: return dot_vnni;
    case Q8Kernel::Avx2: return dot_avx2;
    case Q8Kernel::Portable: break;
  }
  return dot_portable;
}

// F16C from CPUID (leaf 1, ECX): clang's __builtin_cpu_supports does not know "f16c".
bool runs_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_F16C) != 0;
}
bool runs_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && runs_f16c(); }
bool runs_vnni() {
  return runs_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
}

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

void q8_matmul_rows(const Q8Matrix& w, const Q8Input& x, float* y, int64_t row_begin, int64_t row_end, Q8Kernel kernel) {
  const DotFn dot = dot_of(kernel);
  const int64_t blocks = w.blocks();
  for (int64_t r = row_begin; r < row_end; ++r)
    for (int64_t t = 0; t < x.count; ++t)
      y[t * w.rows() + r] = dot(w.q(r), w.d(r), x.q.data() + t * blocks * kQ8Block, x.d.data() + t * blocks, blocks);
}

}  // namespace imsm
