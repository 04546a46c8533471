// A seeded shuffle that gives the same order on every platform (std::shuffle's
// algorithm is implementation-defined): Fisher-Yates on mt19937_64.
#pragma once
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace imsm::data {

template <typename T>
void shuffle(std::vector<T>& v, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

}  // namespace imsm::data
