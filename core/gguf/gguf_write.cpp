#include "gguf/gguf_write.h"

#include <ggml.h>
#include <gguf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.h"

namespace imsm {
namespace {

constexpr size_t kMaxTensors = 1 << 16;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

void write_bytes(std::FILE* f, const void* data, size_t bytes, const std::string& path) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, f) != bytes)
    throw_bad_input(path, std::string("cannot be written (") + std::strerror(errno) + "); nothing was kept");
}

// The tensor's values in its ggml type (ggml_quantize_chunk converts f16/bf16 too).
std::vector<uint8_t> convert(const std::vector<float>& values, int type, int64_t rows, int64_t row_length, const std::vector<float>* importance) {
  const auto t = static_cast<ggml_type>(type);
  std::vector<uint8_t> out(ggml_row_size(t, row_length) * static_cast<size_t>(rows));
  if (t == GGML_TYPE_F32)
    std::memcpy(out.data(), values.data(), out.size());
  else
    ggml_quantize_chunk(t, values.data(), out.data(), 0, rows, row_length,
                        importance != nullptr && static_cast<int64_t>(importance->size()) == row_length ? importance->data() : nullptr);
  return out;
}

}  // namespace

std::string ggml_type_label(int type) { return ggml_type_name(static_cast<ggml_type>(type)); }

GgufWriter::GgufWriter() : ctx_(gguf_init_empty()) {
  ggml_init_params params{/*mem_size=*/kMaxTensors * ggml_tensor_overhead(), /*mem_buffer=*/nullptr, /*no_alloc=*/true};
  tensors_ctx_ = ggml_init(params);
}

GgufWriter::~GgufWriter() {
  gguf_free(ctx_);
  ggml_free(tensors_ctx_);
}

void GgufWriter::set_text(const std::string& key, const std::string& value) { gguf_set_val_str(ctx_, key.c_str(), value.c_str()); }
void GgufWriter::set_u32(const std::string& key, uint32_t value) { gguf_set_val_u32(ctx_, key.c_str(), value); }
void GgufWriter::set_i32(const std::string& key, int32_t value) { gguf_set_val_i32(ctx_, key.c_str(), value); }
void GgufWriter::set_f32(const std::string& key, float value) { gguf_set_val_f32(ctx_, key.c_str(), value); }
void GgufWriter::set_bool(const std::string& key, bool value) { gguf_set_val_bool(ctx_, key.c_str(), value); }

void GgufWriter::set_texts(const std::string& key, const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(v.c_str());
  gguf_set_arr_str(ctx_, key.c_str(), pointers.data(), pointers.size());
}

void GgufWriter::set_i32s(const std::string& key, const std::vector<int32_t>& values) {
  gguf_set_arr_data(ctx_, key.c_str(), GGUF_TYPE_INT32, values.data(), values.size());
}

void GgufWriter::set_f32s(const std::string& key, const std::vector<float>& values) {
  gguf_set_arr_data(ctx_, key.c_str(), GGUF_TYPE_FLOAT32, values.data(), values.size());
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape, int type) {
  if (shape.empty() || shape.size() > GGML_MAX_DIMS) throw_internal("a GGUF tensor has 1 to 4 dimensions: " + name);
  if (tensors_.size() >= kMaxTensors) throw_internal("more than 65536 tensors: " + name);
  const auto t = static_cast<ggml_type>(type);
  if (shape.back() % ggml_blck_size(t) != 0)
    throw_bad_input(name, "rows of " + std::to_string(shape.back()) + " values do not divide into " + ggml_type_name(t) + "'s blocks of " +
                              std::to_string(ggml_blck_size(t)));
  int64_t ne[GGML_MAX_DIMS] = {1, 1, 1, 1};  // ggml: innermost first
  for (size_t d = 0; d < shape.size(); ++d) ne[d] = shape[shape.size() - 1 - d];
  ggml_tensor* tensor = ggml_new_tensor(tensors_ctx_, t, static_cast<int>(shape.size()), ne);
  ggml_set_name(tensor, name.c_str());
  gguf_add_tensor(ctx_, tensor);
  tensors_.push_back({name, shape, type});
}

int64_t GgufWriter::write(const std::string& path, const Values& values, const Hooks& hooks, const Importance& importance) const {
  const std::string partial = path + ".partial";
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(partial.c_str(), "wb"));
  if (!f) throw_bad_input(path, std::string("cannot be written (") + std::strerror(errno) + ")");
  try {
    std::vector<uint8_t> meta(gguf_get_meta_size(ctx_));  // padded to the alignment: the first tensor's data follows
    gguf_get_meta_data(ctx_, meta.data());
    write_bytes(f.get(), meta.data(), meta.size(), path);
    const size_t alignment = gguf_get_alignment(ctx_);
    const std::vector<uint8_t> zeros(alignment, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      hooks.check_abort("export cancelled while writing " + tensors_[i].name + "; nothing kept");
      hooks.progress({"write", static_cast<int64_t>(i), static_cast<int64_t>(tensors_.size()), tensors_[i].name});
      const Tensor& t = tensors_[i];
      const std::vector<float> v = values(i);
      const int64_t row_length = t.shape.back(), rows = static_cast<int64_t>(v.size()) / row_length;
      const std::vector<uint8_t> data = convert(v, t.type, rows, row_length, importance ? importance(i) : nullptr);
      if (data.size() != gguf_get_tensor_size(ctx_, static_cast<int64_t>(i)))
        throw_internal(t.name + ": " + std::to_string(v.size()) + " values for its shape");
      write_bytes(f.get(), data.data(), data.size(), path);
      write_bytes(f.get(), zeros.data(), (alignment - data.size() % alignment) % alignment, path);
    }
    if (std::fflush(f.get()) != 0) throw_bad_input(path, std::string("cannot be written (") + std::strerror(errno) + "); nothing was kept");
    const int64_t bytes = static_cast<int64_t>(std::ftell(f.get()));
    f.reset();
    std::filesystem::rename(partial, path);
    return bytes;
  } catch (...) {
    f.reset();
    std::error_code ec;
    std::filesystem::remove(partial, ec);
    throw;
  }
}

}  // namespace imsm
