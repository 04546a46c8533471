// Benchmark (not a test): how long one comparison of the significance tests
// takes (eval/significance.h: 10,000 paired-bootstrap resamples over items
// and seeds, then McNemar or the bootstrap's p), for a benchmark of N items
// and S seeds per model, on a right/wrong metric and on F1.
//
//   build/bin/bench_significance [--items 200] [--seeds 3] [--resamples 10000] [--reps 3]
#include <chrono>
#include <cstdio>
#include <random>

#include "bench_args.h"
#include "eval/significance.h"

int main(int argc, char** argv) {
  using imsm::bench::arg;
  const int64_t items = arg(argc, argv, "--items", 200), seeds = arg(argc, argv, "--seeds", 3), reps = arg(argc, argv, "--reps", 3);
  imsm::BootstrapOptions options;
  options.resamples = arg(argc, argv, "--resamples", 10000);
  std::mt19937_64 engine(7);
  auto model = [&](int64_t rows, double p_right) {
    imsm::SeedScores s;
    for (int64_t k = 0; k < rows; ++k) {
      s.seeds.push_back(k + 1);
      s.items.emplace_back();
      for (int64_t i = 0; i < items; ++i) {
        const double r = static_cast<double>(engine() % 1000) < 1000 * p_right ? 1.0 : 0.0;
        s.items.back().push_back({r, r, r * 0.9, r, 0, 0});
      }
    }
    return s;
  };
  const imsm::SeedScores method = model(seeds, 0.6), base = model(1, 0.5);
  for (const char* metric : {"Contain", "F1_overlap"}) {
    double best = 1e30;
    imsm::Difference d;
    for (int64_t r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      d = imsm::compare_scores(metric, method, base, options);
      best = std::min(best, imsm::bench::seconds_since(t0));
    }
    std::printf("%-10s %lld items x (%lld + 1) seeds, %lld resamples: %.3f s per comparison (best of %lld); %+.4f [%+.4f, %+.4f] p %.3g (%s)\n",
                metric, static_cast<long long>(items), static_cast<long long>(seeds), static_cast<long long>(options.resamples), best,
                static_cast<long long>(reps), d.value, d.low, d.high, d.p, d.test.c_str());
  }
  return 0;
}
