// A fast 64-bit hash of bytes (four independent lanes of multiply-rotate,
// then an avalanche): for noticing that data changed (a cache's key), never
// for security. Hash64 takes the bytes in pieces: the same pieces in the
// same order give the same hash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace imsm {

class Hash64 {
 public:
  explicit Hash64(uint64_t seed = 0);
  void add(const void* data, size_t bytes);
  void add(const std::string& text) { add(text.data(), text.size()); add_size(text.size()); }
  void add_size(uint64_t n) { add(&n, sizeof n); }
  uint64_t digest() const;
  std::string hex() const;  // 16 hex digits

 private:
  uint64_t lane_[4];
  uint64_t total_ = 0;
};

uint64_t hash64(const void* data, size_t bytes, uint64_t seed = 0);

}  // namespace imsm
