// llama.cpp's q8_0 weights, and the int8 dot products decoding runs on.
//
// A row is cut into blocks of 32 values; a block keeps one scale d (fp16)
// and 32 signed bytes q, and stands for d · q. The block and its rounding
// are ggml's (quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d)), so
// a row quantized here holds the bytes llama-quantize writes. A matrix-vector
// product quantizes the vector the same way and sums, per block, d_w · d_x ·
// Σ q_w q_x with the products in int32 (exact), as ggml's q8_0 × q8_0 does.
//
// Kernels, chosen once from the CPU (ATEN_CPU_CAPABILITY=avx2 or =default
// caps the choice, as it does LibTorch's): AVX512-VNNI (256-bit dpbusd),
// AVX2, and a portable one. Torch-free; the caller runs rows in parallel.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

constexpr int64_t kQ8Block = 32;

enum class Q8Kernel { Portable, Avx2, Avx512Vnni };

struct BlockQ8 {
  uint16_t d;           // the scale, IEEE fp16
  int8_t q[kQ8Block];   // value ≈ d · q
};
static_assert(sizeof(BlockQ8) == 34, "ggml's block_q8_0 is 34 bytes");

// Blocks of one row of n values (n rounded up to 32; the tail counts as 0).
int64_t q8_blocks(int64_t n);
// x[n] -> out[q8_blocks(n)].
void quantize_row_q8_0(const float* x, int64_t n, BlockQ8* out);
// A layer's input, quantized as ggml's x86 quantize_row_q8_0 does it before
// a q8_0 product (id = 127 / max|x|, ties to even) with the kernel's
// instructions: equal to quantize_row_q8_0 but where x · id falls on .5.
void quantize_input_q8_0(const float* x, int64_t n, BlockQ8* out, Q8Kernel kernel);
// The values a row stands for: out[n].
void dequantize_row_q8_0(const BlockQ8* row, int64_t n, float* out);

// A [rows, cols] matrix in q8_0, row after row.
struct Q8Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<BlockQ8> blocks;  // [rows, q8_blocks(cols)]
  const BlockQ8* row(int64_t r) const { return blocks.data() + r * q8_blocks(cols); }
};
// w: [rows, cols] fp32, row-major.
Q8Matrix quantize_matrix_q8_0(const float* w, int64_t rows, int64_t cols);

std::string q8_kernel_name(Q8Kernel kernel);
// The fastest kernel this CPU runs, within ATEN_CPU_CAPABILITY's cap.
Q8Kernel q8_best_kernel();
// Every kernel this CPU can run (for the tests: each against the others).
std::vector<Q8Kernel> q8_kernels_here();

// y[t · W.rows + r] = row r of W · the t-th of n_x quantized vectors (each
// q8_blocks(W.cols) blocks, one after another), for r in [row_begin, row_end).
// Each weight row is read once for all n_x vectors.
void q8_matmul_rows(const Q8Matrix& w, const BlockQ8* x, int64_t n_x, float* y, int64_t row_begin, int64_t row_end,
                    Q8Kernel kernel);

}  // namespace imsm
