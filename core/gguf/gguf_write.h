// A GGUF file written through ggml's own writer (gguf.h): typed metadata,
// then each tensor's values converted from fp32 to its ggml type by ggml's
// quantizers (ggml_quantize_chunk: f16, bf16, q8_0, the K-quants, ...), one
// tensor at a time, as llama.cpp's llama-quantize writes a file: a model
// never has to be whole in memory in its quantized form. Torch-free.
//
// The file appears whole or not at all: written beside `path`, then renamed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/run_protocol.h"

struct gguf_context;
struct ggml_context;

namespace imsm {

class GgufWriter {
 public:
  GgufWriter();
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  void set_text(const std::string& key, const std::string& value);
  void set_u32(const std::string& key, uint32_t value);
  void set_i32(const std::string& key, int32_t value);
  void set_f32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  void set_texts(const std::string& key, const std::vector<std::string>& values);
  void set_i32s(const std::string& key, const std::vector<int32_t>& values);
  void set_f32s(const std::string& key, const std::vector<float>& values);

  // A tensor of `shape` (outermost first, as Hugging Face writes it: [out, in])
  // stored as `type` (a ggml_type). BadInput naming the tensor when its rows
  // do not divide into the type's blocks.
  void add_tensor(const std::string& name, const std::vector<int64_t>& shape, int type);

  // Writes the file: the metadata, then tensor i's values from values(i)
  // (fp32, row-major in its shape), in the order they were added, quantized
  // with importance(i) when it gives one (the tensor's importance matrix
  // row, one weight per column: activation_stats.h). Progress ("write", i,
  // n, name) per tensor; cancelled between tensors by hooks.should_abort(),
  // leaving nothing at `path`. Returns the bytes written.
  using Values = std::function<std::vector<float>(size_t)>;
  using Importance = std::function<const std::vector<float>*(size_t)>;
  int64_t write(const std::string& path, const Values& values, const Hooks& hooks, const Importance& importance = {}) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    int type;
  };
  gguf_context* ctx_ = nullptr;
  ggml_context* tensors_ctx_ = nullptr;  // the tensors' descriptions (no data)
  std::vector<Tensor> tensors_;
};

// ggml's name of a type ("q8_0", "f16", ...).
std::string ggml_type_label(int type);

}  // namespace imsm
