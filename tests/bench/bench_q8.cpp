// The q8_0 kernels (model/q8_0.h) on one decoded token's matrices of
// SmolLM2-135M (30 layers of q/k/v 960×576, o 576×576, gate/up 3072×576,
// down 576×1536, and the 49,152×576 head: 136 MiB), random weights, one
// vector each, one thread or more (OpenMP, the rows split evenly, as decoding does).
// Prints each kernel's tokens/s and the bytes it streams per second.
//   bench_q8 [--tokens 30] [--threads 1]
#include <cstdio>
#include <random>

#include "bench_args.h"
#include "model/q8_0.h"

int main(int argc, char** argv) {
  const int64_t tokens = imsm::bench::arg(argc, argv, "--tokens", 30), threads = imsm::bench::arg(argc, argv, "--threads", 1);
  std::vector<std::pair<int64_t, int64_t>> shapes;  // [rows, cols]
  for (int l = 0; l < 30; ++l)
    for (const auto& s : std::vector<std::pair<int64_t, int64_t>>{{960, 576}, {576, 576}, {3072, 576}, {576, 1536}}) shapes.push_back(s);
  shapes.emplace_back(49152, 576);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<imsm::Q8Matrix> matrices;
  int64_t bytes = 0;
  for (const auto& [rows, cols] : shapes) {
    std::vector<float> w(static_cast<size_t>(rows * cols));
    for (auto& e : w) e = normal(gen);
    matrices.emplace_back(w.data(), rows, cols);
    bytes += matrices.back().bytes();
  }
  std::vector<float> x(1536), y(49152);
  for (auto& e : x) e = normal(gen);
  for (const imsm::Q8Kernel kernel : imsm::q8_kernels_here()) {
    imsm::Q8Input input;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t t = 0; t < tokens; ++t)
      for (const auto& m : matrices) {
        imsm::quantize_input_q8_0(x.data(), 1, m.cols(), input, kernel);
        if (threads <= 1) {
          imsm::q8_matmul_rows(m, input, y.data(), 0, m.rows(), kernel);
          continue;
        }
#pragma omp parallel for num_threads(threads)
        for (int64_t part = 0; part < threads; ++part)
          imsm::q8_matmul_rows(m, input, y.data(), m.rows() * part / threads, m.rows() * (part + 1) / threads, kernel);
      }
    const double s = imsm::bench::seconds_since(t0);
    std::printf("%-12s %lld thread(s): %7.1f tokens/s, %5.1f GB/s of %lld MiB\n", imsm::q8_kernel_name(kernel).c_str(),
                static_cast<long long>(threads), tokens / s, bytes * tokens / s / 1e9, static_cast<long long>(bytes >> 20));
  }
}
