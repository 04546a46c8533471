// q8_0 weights and the int8 kernels of q8_0 decoding (model/q8_0.h), against
// ggml, llama.cpp's tensor library: a row quantized here holds the bytes
// ggml_quantize_chunk writes for GGML_TYPE_Q8_0 (what llama-quantize and the
// GGUF export write); every kernel this CPU runs gives the block sums exactly
// (int32 products) and adds them in fp32; the layer-input quantizer is ggml's
// x86 one.
#include <gtest/gtest.h>

#include <ggml.h>

#include <cmath>
#include <cstring>
#include <random>

#include "model/q8_0.h"
#include "util/half.h"

namespace {

// Values of several magnitudes, exact zeros, a row's tail past whole blocks.
std::vector<float> values(int64_t n, uint32_t seed, float spread) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = normal(gen);
  for (int64_t i = 0; i < n; i += 37) v[static_cast<size_t>(i)] = 0.0f;
  return v;
}

TEST(Q8_0, RowsHoldTheBytesGgmlWrites) {
  for (const float spread : {1e-3f, 0.3f, 40.0f}) {
    const int64_t rows = 5, cols = 256;
    std::vector<float> w = values(rows * cols, 11, spread);
    std::fill(w.begin(), w.begin() + 32, 0.0f);  // an all-zero block: d = 0, every q 0
    std::vector<uint8_t> ggml(static_cast<size_t>(ggml_row_size(GGML_TYPE_Q8_0, cols) * rows));
    ggml_quantize_chunk(GGML_TYPE_Q8_0, w.data(), ggml.data(), 0, rows, cols, nullptr);
    std::vector<imsm::BlockQ8> blocks(static_cast<size_t>(rows * 8));
    for (int64_t r = 0; r < rows; ++r) imsm::quantize_row_q8_0(w.data() + r * cols, cols, blocks.data() + r * 8);
    ASSERT_EQ(ggml.size(), blocks.size() * sizeof(imsm::BlockQ8));
    EXPECT_EQ(std::memcmp(ggml.data(), blocks.data(), ggml.size()), 0) << "spread " << spread;
    // The matrix's planes hold the same bytes.
    const imsm::Q8Matrix m(w.data(), rows, cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < 8; ++b) {
        const imsm::BlockQ8 got = m.block(r, b);
        EXPECT_EQ(std::memcmp(&got, &blocks[static_cast<size_t>(r * 8 + b)], sizeof(got)), 0) << "row " << r << " block " << b;
      }
    // Dequantized, each value is within half a step of the original, plus
    // what storing the step in fp16 moved: q was rounded with the fp32 step
    // (max|x| / 127), the value is rebuilt with the fp16 one, |q| <= 127.
    std::vector<float> back(static_cast<size_t>(cols));
    m.dequantize_row(1, back.data());
    for (int64_t b = 0; b < cols / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(w[static_cast<size_t>(cols + b * 32 + j)]));
      const float step = imsm::half_to_float(m.d(1)[b]), exact = amax / 127.0f;
      const float bound = 0.5f * exact + 127.0f * std::fabs(step - exact);
      for (int64_t i = b * 32; i < b * 32 + 32; ++i)
        EXPECT_LE(std::fabs(back[static_cast<size_t>(i)] - w[static_cast<size_t>(cols + i)]), bound * 1.0001f) << "spread " << spread;
    }
  }
}

TEST(Q8_0, EveryKernelSumsTheBlocksExactly) {
  // 19 blocks, the last one 8 values and 24 zeros: two rounds of eight and a tail for the VNNI kernel.
  const int64_t rows = 7, cols = 584;
  const std::vector<float> w = values(rows * cols, 3, 0.5f), x = values(2 * cols, 4, 2.0f);
  const imsm::Q8Matrix m(w.data(), rows, cols);
  const int64_t blocks = m.blocks();
  for (const imsm::Q8Kernel kernel : imsm::q8_kernels_here()) {
    imsm::Q8Input qx;
    imsm::quantize_input_q8_0(x.data(), 2, cols, qx, kernel);
    std::vector<float> y(static_cast<size_t>(2 * rows), NAN);
    imsm::q8_matmul_rows(m, qx, y.data(), 0, rows, kernel);
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t r = 0; r < rows; ++r) {
        double want = 0, magnitude = 0;  // Σ_b d_w d_x Σ q_w q_x in fp64
        for (int64_t b = 0; b < blocks; ++b) {
          int64_t s = 0;
          for (int j = 0; j < 32; ++j) s += m.q(r)[b * 32 + j] * qx.q[static_cast<size_t>((t * blocks + b) * 32 + j)];
          const double term = static_cast<double>(imsm::half_to_float(m.d(r)[b])) * qx.d[static_cast<size_t>(t * blocks + b)] * static_cast<double>(s);
          want += term;
          magnitude += std::fabs(term);
        }
        // fp32 sums of 19 block terms (each scale product and conversion
        // rounded once): a few ulps of the terms' magnitude; a wrong byte,
        // sign or scale is off by whole terms.
        EXPECT_NEAR(y[static_cast<size_t>(t * rows + r)], want, 32 * 1.2e-7 * magnitude)
            << imsm::q8_kernel_name(kernel) << " row " << r << " vector " << t;
      }
  }
}

TEST(Q8_0, LayerInputsQuantizeAsGgmlDoesOnX86) {
  const int64_t n = 1000;  // 31 whole blocks and a tail of 8
  const std::vector<float> x = values(n, 9, 3.0f);
  std::vector<imsm::BlockQ8> ref(static_cast<size_t>(imsm::q8_blocks(n)));
  imsm::quantize_row_q8_0(x.data(), n, ref.data());
  for (const imsm::Q8Kernel kernel : imsm::q8_kernels_here()) {
    imsm::Q8Input got;
    imsm::quantize_input_q8_0(x.data(), 1, n, got, kernel);
    for (size_t b = 0; b < ref.size(); ++b) {
      const float d = imsm::half_to_float(ref[b].d);
      EXPECT_EQ(got.d[b], d) << imsm::q8_kernel_name(kernel) << " block " << b;
      // 127 / max|x| against 1 / (max|x| / 127), and ties to even against away
      // from zero: a value may land one step apart only where x / d is within
      // rounding of a .5.
      for (int j = 0; j < 32 && static_cast<int64_t>(b) * 32 + j < n; ++j) {
        const float scaled = x[b * 32 + static_cast<size_t>(j)] / (d != 0 ? d : 1.0f);
        const bool near_tie = std::fabs(std::fabs(scaled - std::trunc(scaled)) - 0.5f) < 1e-3f;
        if (!near_tie) EXPECT_EQ(got.q[b * 32 + static_cast<size_t>(j)], ref[b].q[j]) << imsm::q8_kernel_name(kernel) << " value " << b * 32 + static_cast<size_t>(j);
      }
    }
  }
}

TEST(Q8_0, TheCapabilityCapPicksTheKernel) {
  const auto here = imsm::q8_kernels_here();
  EXPECT_EQ(here.front(), imsm::Q8Kernel::Portable);
  const char* cap = std::getenv("ATEN_CPU_CAPABILITY");
  const std::string was = cap != nullptr ? cap : "";
  setenv("ATEN_CPU_CAPABILITY", "default", 1);
  EXPECT_EQ(imsm::q8_best_kernel(), imsm::Q8Kernel::Portable);
  setenv("ATEN_CPU_CAPABILITY", "avx2", 1);
  EXPECT_NE(imsm::q8_best_kernel(), imsm::Q8Kernel::Avx512Vnni);
  unsetenv("ATEN_CPU_CAPABILITY");
  EXPECT_EQ(imsm::q8_best_kernel(), here.back());
  if (!was.empty()) setenv("ATEN_CPU_CAPABILITY", was.c_str(), 1);
}

}  // namespace
