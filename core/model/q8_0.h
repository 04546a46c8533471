// llama.cpp's q8_0 weights, and the int8 products decoding runs on.
//
// A row is cut into blocks of 32 values; a block keeps one scale d (fp16)
// and 32 signed bytes q, and stands for d · q. The rounding is ggml's
// (quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d)): a row
// quantized here holds the bytes llama-quantize writes (BlockQ8 is ggml's
// block_q8_0). A matrix keeps the same bytes in two planes, the q's of a row
// one after another and its scales beside, so that a kernel loads two blocks'
// q's in one 64-byte register. A product quantizes the vector the way ggml
// does on x86 before a q8_0 matmul, then sums per block d_w · d_x · Σ q_w q_x,
// the products in int32 (exact), the blocks in fp32.
//
// Kernels, chosen once from the CPU (ATEN_CPU_CAPABILITY=avx2 or =default
// caps the choice, as it does LibTorch's): AVX512-VNNI (two blocks per
// 512-bit dpbusd), AVX2, and portable code. Torch-free; the caller runs rows
// in parallel.
#pragma once
#include <cstdint>
#include <new>
#include <string>
#include <vector>

namespace imsm {

constexpr int64_t kQ8Block = 32;

enum class Q8Kernel { Portable, Avx2, Avx512Vnni };

// Storage on 64-byte boundaries: a row of whole pairs of blocks then starts
// a cache line, and no 64-byte load straddles two.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
  friend bool operator!=(const CacheLineAllocator&, const CacheLineAllocator&) { return false; }
};
using AlignedBytes = std::vector<int8_t, CacheLineAllocator<int8_t>>;

struct BlockQ8 {
  uint16_t d;           // the scale, IEEE fp16
  int8_t q[kQ8Block];   // value ≈ d · q
};
static_assert(sizeof(BlockQ8) == 34, "ggml's block_q8_0 is 34 bytes");

// Blocks of one row of n values (n rounded up to 32; the tail counts as 0).
int64_t q8_blocks(int64_t n);
// x[n] -> out[q8_blocks(n)], as ggml's quantize_row_q8_0_ref.
void quantize_row_q8_0(const float* x, int64_t n, BlockQ8* out);

// A [rows, cols] matrix in q8_0, in planes.
class Q8Matrix {
 public:
  Q8Matrix() = default;
  // w: [rows, cols] fp32, row-major; rows quantized by quantize_row_q8_0.
  Q8Matrix(const float* w, int64_t rows, int64_t cols);
  // Room for [rows, cols]; set_row fills it (rows in parallel, by the caller).
  Q8Matrix(int64_t rows, int64_t cols);
  void set_row(int64_t r, const float* x);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t blocks() const { return blocks_; }                                  // per row
  const int8_t* q(int64_t r) const { return q_.data() + r * blocks_ * kQ8Block; }  // [blocks · 32]
  const uint16_t* d(int64_t r) const { return d_.data() + r * blocks_; }       // [blocks], fp16
  BlockQ8 block(int64_t r, int64_t b) const;                                  // ggml's bytes of one block
  void dequantize_row(int64_t r, float* out) const;                           // out[cols]
  int64_t bytes() const { return static_cast<int64_t>(q_.size() + 2 * d_.size()); }

 private:
  int64_t rows_ = 0, cols_ = 0, blocks_ = 0;
  AlignedBytes q_;           // [rows, blocks · 32]
  std::vector<uint16_t> d_;  // [rows, blocks]
};

// Vectors quantized for a product: each q8_blocks(n) blocks, their scales
// as fp32 (the fp16 value, converted once).
struct Q8Input {
  int64_t count = 0, blocks = 0;
  AlignedBytes q;         // [count, blocks · 32]
  std::vector<float> d;   // [count, blocks]
};
// x [count, n] -> out, as ggml's x86 quantize_row_q8_0 (id = 127 / max|x|,
// ties to even) with the kernel's instructions: the same bytes as
// quantize_row_q8_0 but where x / d falls within rounding of a .5.
void quantize_input_q8_0(const float* x, int64_t count, int64_t n, Q8Input& out, Q8Kernel kernel);

std::string q8_kernel_name(Q8Kernel kernel);
// The fastest kernel this CPU runs, within ATEN_CPU_CAPABILITY's cap.
Q8Kernel q8_best_kernel();
// Every kernel this CPU can run (for the tests: each against the others).
std::vector<Q8Kernel> q8_kernels_here();

// y[t · w.rows() + r] = row r of w · vector t of x, for r in [row_begin,
// row_end) and every t: each weight row is read once for all of x's vectors.
void q8_matmul_rows(const Q8Matrix& w, const Q8Input& x, float* y, int64_t row_begin, int64_t row_end, Q8Kernel kernel);

}  // namespace imsm
