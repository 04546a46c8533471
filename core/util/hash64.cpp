#include "util/hash64.h"

#include <cstdio>
#include <cstring>

namespace imsm {

namespace {
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL, kPrime2 = 0xC2B2AE3D27D4EB4FULL, kPrime3 = 0x165667B19E3779F9ULL;
uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
uint64_t round(uint64_t acc, uint64_t word) { return rotl(acc + word * kPrime2, 31) * kPrime1; }
uint64_t avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  return h ^ (h >> 32);
}
}  // namespace

Hash64::Hash64(uint64_t seed) : lane_{seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1} {}

void Hash64::add(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += bytes;
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {  // four lanes, eight bytes each
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    for (int l = 0; l < 4; ++l) lane_[l] = round(lane_[l], w[l]);
  }
  for (; i < bytes; ++i) lane_[i % 4] = round(lane_[i % 4], p[i] + 1);  // the tail byte by byte
}

uint64_t Hash64::digest() const {
  uint64_t h = rotl(lane_[0], 1) + rotl(lane_[1], 7) + rotl(lane_[2], 12) + rotl(lane_[3], 18);
  return avalanche(h ^ total_ * kPrime3);
}

std::string Hash64::hex() const {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(digest()));
  return text;
}

uint64_t hash64(const void* data, size_t bytes, uint64_t seed) {
  Hash64 h(seed);
  h.add(data, bytes);
  return h.digest();
}

}  // namespace imsm
