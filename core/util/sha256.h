// SHA-256 (FIPS 180-4) of bytes and of files, for the workspace's artifact
// and dataset fingerprints.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace imsm {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  std::string hex_digest();  // 64 lowercase hex digits; ends the hash

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// Streams the file; BadInput naming the path when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace imsm
