// Safetensors reader: the header is parsed and checked in full (sizes, dtypes,
// offsets inside the file, no overlaps or holes, as the reference Rust crate
// checks), the data stays memory-mapped. No torch here.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/mmap_file.h"

namespace imsm {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

const char* dtype_name(DType dtype);       // "F32", ... as safetensors spells them
size_t dtype_size(DType dtype);            // bytes per element
bool dtype_from_name(const std::string& name, DType* out);  // the inverse of dtype_name

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  // inside the mapped file
  size_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Throws BadInput naming the file and the problem for any malformed file.
  static SafetensorsFile open(const std::string& path);
  // Parses a file that is already mapped; errors name its path.
  static SafetensorsFile parse(std::shared_ptr<const MappedFile> file);

  const std::string& path() const { return file_->path(); }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Keeps the mapping alive for as long as tensors built on its memory live.
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  std::vector<TensorView> tensors_;               // in header order
  std::map<std::string, size_t> index_;           // name -> position in tensors_
  std::map<std::string, std::string> metadata_;   // "__metadata__"
};

}  // namespace imsm
