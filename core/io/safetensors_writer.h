// Safetensors writer: header padded to 8 bytes as the reference writer does,
// tensors laid out in the order given, written atomically (temp file, rename).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace imsm {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // numel * dtype_size bytes, little-endian
};

// Throws imsm::Error when the file cannot be written; an existing file at
// `path` is replaced only once the new one is complete.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace imsm
