// One process of a c10d test launched by torchrun (tests/dist/test_dist.cpp):
//   dist_worker collectives   all-reduce, all-gather and barrier against hand-computed values
//   dist_worker die           rank 1 exits at once (torchrun then stops rank 0)
//   dist_worker hang          rank 1 stops answering; rank 0's collective must fail within IMSM_DIST_TIMEOUT
// Prints one line per rank; exit 0 when what the rank saw is what it expected.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "dist/process_group.h"
#include "util/error.h"

namespace {

int collectives(imsm::dist::ProcessGroup& g) {
  const int r = g.rank(), n = g.size();
  torch::Tensor t = torch::full({5}, static_cast<float>(r + 1));  // [5]
  g.all_reduce_sum(t);
  const float want = static_cast<float>(n * (n + 1) / 2);  // 1 + 2 + ... + n
  if (!torch::equal(t, torch::full({5}, want))) return std::printf("rank %d: all-reduce gave %f, want %f\n", r, t[0].item<float>(), want), 1;
  const auto all = g.all_gather(std::string(static_cast<size_t>(r) * 3 + 1, static_cast<char>('a' + r)));  // ranks' lengths differ
  for (int q = 0; q < n; ++q)
    if (all.at(static_cast<size_t>(q)) != std::string(static_cast<size_t>(q) * 3 + 1, static_cast<char>('a' + q)))
      return std::printf("rank %d: all-gather item %d is \"%s\"\n", r, q, all[static_cast<size_t>(q)].c_str()), 1;
  g.barrier();
  std::printf("rank %d of %d: collectives ok\n", r, n);
  return 0;
}

int die_or_hang(imsm::dist::ProcessGroup& g, bool die) {
  if (g.rank() == 1) {
    if (die) std::_Exit(3);  // no goodbye
    std::this_thread::sleep_for(std::chrono::minutes(5));  // alive, silent
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    for (int i = 0; i < 3; ++i) g.barrier();  // the first may pass before rank 1 is gone
  } catch (const imsm::Error& e) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("rank 0 stopped after %.1f s: %s\n", s, e.what());
    std::fflush(stdout);
    return 1;  // torchrun then stops the silent rank
  }
  std::printf("rank 0: no error although rank 1 died\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    const auto launch = imsm::dist::launch_from_environment();
    auto group = imsm::dist::ProcessGroup::join(launch, torch::kCPU, imsm::dist::collective_timeout());
    if (mode == "collectives") return collectives(*group);
    if (mode == "die" || mode == "hang") return die_or_hang(*group, mode == "die");
    std::fprintf(stderr, "dist_worker: unknown mode \"%s\" (collectives, die, hang)\n", mode.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
