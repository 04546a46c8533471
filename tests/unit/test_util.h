// Helpers shared by the unit tests: temporary folders and files, and the
// assertion that a call fails with one clear BadInput line.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>
#include <string>

#include "util/error.h"

namespace imsm::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("imsm-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A safetensors file from a header text and raw data bytes.
inline std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xFF);
  return out + header + data;
}

// Runs `fn`, expects imsm::Error of kind BadInput whose message is one line
// holding every string of `needles`.
inline void expect_bad_input(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected a BadInput error";
  } catch (const imsm::Error& e) {
    EXPECT_EQ(e.kind(), imsm::ErrorKind::BadInput) << e.what();
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
    for (const auto& n : needles) EXPECT_NE(message.find(n), std::string::npos) << "\"" << n << "\" not in: " << message;
  }
}

// Runs `fn`, expects imsm::Error of kind Cancelled (the run protocol's one
// cancel rule) and returns its message.
inline std::string expect_cancelled(const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "expected a Cancelled error";
  } catch (const imsm::Error& e) {
    EXPECT_EQ(e.kind(), imsm::ErrorKind::Cancelled) << e.what();
    return e.what();
  }
  return {};
}

}  // namespace imsm::testing
