// A GGUF file (llama.cpp's model format) opened read-only through ggml's own
// reader (gguf.h) and mapped: its metadata as typed lookups that never abort,
// its tensors' names, shapes and types, and each tensor dequantized to fp32
// by ggml's type traits (no block format is decoded here). Torch-free.
//
// Opening checks what ggml's reader does not, before any byte of tensor data
// is read: every tensor's data lies inside the file, and its type has a
// dequantizer. Bad files are BadInput naming the file and the problem.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct gguf_context;

namespace imsm {

class MappedFile;

struct GgufTensorInfo {
  std::string name;             // "blk.0.attn_q.weight"
  int type = 0;                 // a ggml_type
  std::string type_name;        // "q4_1", "f16", ...
  std::vector<int64_t> shape;   // outermost first, as Hugging Face and torch write it ([out, in] for a weight)
  int64_t numel = 0;
  uint64_t offset = 0;          // of its data, from the start of the file
  uint64_t nbytes = 0;
};

class GgufFile {
 public:
  // BadInput naming `path` for a file ggml's reader refuses (its reason
  // quoted), a tensor whose data runs past the end of the file, or a tensor
  // type without a dequantizer.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }

  // Metadata. Each returns nothing when the key is absent; a key of another
  // type is BadInput naming the file and the key.
  std::optional<std::string> text(const std::string& key) const;
  std::optional<int64_t> integer(const std::string& key) const;  // any integer type (u64 beyond int64: BadInput)
  std::optional<double> number(const std::string& key) const;    // a float or an integer
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<std::vector<std::string>> texts(const std::string& key) const;
  std::optional<std::vector<double>> numbers(const std::string& key) const;    // an array of floats or integers

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find(const std::string& name) const;
  // The tensor's values as fp32, row-major in `shape`'s order; `out` holds numel floats.
  void dequantize(const GgufTensorInfo& tensor, float* out) const;

 private:
  GgufFile() = default;
  int64_t key_id(const std::string& key) const;
  [[noreturn]] void bad_key(const std::string& key, const std::string& problem) const;

  std::string path_;
  gguf_context* ctx_ = nullptr;
  std::shared_ptr<const MappedFile> map_;
  std::vector<GgufTensorInfo> tensors_;
};

// The ggml types a GGUF tensor may have here (those with a dequantizer), by
// name, for messages: "f32, f16, bf16, q4_0, ...".
std::string gguf_supported_types();

}  // namespace imsm
