#include "gguf/gguf_file.h"

#include <ggml.h>
#include <gguf.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>

#include "io/mmap_file.h"
#include "util/error.h"

namespace imsm {
namespace {

// ggml's reader says why it refuses a file through its log; while it runs the
// log goes here (one reader at a time: the callback is process-wide).
std::mutex g_log_mutex;

struct LogCapture {
  std::string last;
  ggml_log_callback previous = nullptr;
  void* previous_data = nullptr;

  LogCapture() {
    ggml_log_get(&previous, &previous_data);
    ggml_log_set(&LogCapture::take, this);
  }
  ~LogCapture() { ggml_log_set(previous, previous_data); }

  static void take(ggml_log_level level, const char* text, void* self) {
    if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN) return;
    std::string line = text;
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    const auto colon = line.find(": ");  // "gguf_init_from_file_impl: invalid magic ..." -> "invalid magic ..."
    if (colon != std::string::npos && line.compare(0, 5, "gguf_") == 0) line = line.substr(colon + 2);
    if (!line.empty()) static_cast<LogCapture*>(self)->last = line;
  }
};

bool has_dequantizer(int type) {
  if (type == GGML_TYPE_F32) return true;
  if (type < 0 || type >= GGML_TYPE_COUNT) return false;
  const ggml_type_traits* traits = ggml_get_type_traits(static_cast<ggml_type>(type));
  return traits != nullptr && traits->to_float != nullptr && traits->type_size > 0;
}

bool is_integer(gguf_type t) {
  return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_INT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_INT16 ||
         t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

// A float32 as the double of its shortest decimal form (1e-5f -> 1e-05, not
// 9.99999974738e-06): what the file's writer meant, and config.json shows.
double shortest(float v) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, v).ptr;
  double out = v;
  std::from_chars(text, end, out);
  return out;
}

// One element of an integer or float scalar/array payload, as a double; for
// u64 beyond int64 the caller checks first.
double element(gguf_type t, const void* p, size_t i) {
  switch (t) {
    case GGUF_TYPE_UINT8: return static_cast<const uint8_t*>(p)[i];
    case GGUF_TYPE_INT8: return static_cast<const int8_t*>(p)[i];
    case GGUF_TYPE_UINT16: return static_cast<const uint16_t*>(p)[i];
    case GGUF_TYPE_INT16: return static_cast<const int16_t*>(p)[i];
    case GGUF_TYPE_UINT32: return static_cast<const uint32_t*>(p)[i];
    case GGUF_TYPE_INT32: return static_cast<const int32_t*>(p)[i];
    case GGUF_TYPE_UINT64: return static_cast<double>(static_cast<const uint64_t*>(p)[i]);
    case GGUF_TYPE_INT64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case GGUF_TYPE_FLOAT32: return shortest(static_cast<const float*>(p)[i]);
    case GGUF_TYPE_FLOAT64: return static_cast<const double*>(p)[i];
    case GGUF_TYPE_BOOL: return static_cast<const int8_t*>(p)[i] != 0;
    default: return 0;
  }
}

}  // namespace

std::string gguf_supported_types() {
  std::string out;
  for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
    if (!has_dequantizer(t)) continue;
    out += (out.empty() ? "" : ", ") + std::string(ggml_type_name(static_cast<ggml_type>(t)));
  }
  return out;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->map_ = MappedFile::open(path);  // BadInput naming the file when it cannot be opened
  {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    LogCapture log;
    gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
    f->ctx_ = gguf_init_from_buffer(f->map_->data(), f->map_->size(), params);
    if (f->ctx_ == nullptr)
      throw_bad_input(path, "not a GGUF file llama.cpp's reader accepts (" + (log.last.empty() ? "no reason given" : log.last) + ")");
  }
  const uint64_t size = f->map_->size();
  const uint64_t data_offset = gguf_get_data_offset(f->ctx_);
  const int64_t n = gguf_get_n_tensors(f->ctx_);
  f->tensors_.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    GgufTensorInfo t;
    t.name = gguf_get_tensor_name(f->ctx_, i);
    t.type = gguf_get_tensor_type(f->ctx_, i);
    t.type_name = (t.type >= 0 && t.type < GGML_TYPE_COUNT) ? ggml_type_name(static_cast<ggml_type>(t.type)) : "?";
    if (!has_dequantizer(t.type))
      throw_bad_input(path, "tensor " + t.name + " has type " + t.type_name + ", which cannot be read here; supported: " +
                                gguf_supported_types());
    const int64_t* ne = gguf_get_tensor_ne(f->ctx_, i);  // innermost first, 1 beyond its dimensions
    int dims = GGML_MAX_DIMS;
    while (dims > 1 && ne[dims - 1] == 1) --dims;
    t.numel = 1;
    for (int d = dims - 1; d >= 0; --d) {
      t.shape.push_back(ne[d]);
      t.numel *= ne[d];  // ggml's reader bounds the product (INT64_MAX) and the size in bytes (SIZE_MAX)
    }
    t.nbytes = gguf_get_tensor_size(f->ctx_, i);
    const uint64_t rel = gguf_get_tensor_offset(f->ctx_, i);
    if (data_offset > size || rel > size - data_offset || t.nbytes > size - data_offset - rel)
      throw_bad_input(path, "tensor " + t.name + "'s data (" + std::to_string(t.nbytes) + " bytes at " +
                                std::to_string(data_offset) + " + " + std::to_string(rel) + ") runs past the end of the file (" +
                                std::to_string(size) + " bytes): the file is truncated or damaged");
    t.offset = data_offset + rel;
    f->tensors_.push_back(std::move(t));
  }
  return f;
}

GgufFile::~GgufFile() {
  if (ctx_ != nullptr) gguf_free(ctx_);
}

int64_t GgufFile::key_id(const std::string& key) const { return gguf_find_key(ctx_, key.c_str()); }

void GgufFile::bad_key(const std::string& key, const std::string& problem) const {
  throw_bad_input(path_, "metadata key " + key + " " + problem);
}

std::optional<std::string> GgufFile::text(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  if (gguf_get_kv_type(ctx_, id) != GGUF_TYPE_STRING) bad_key(key, "is not a string");
  return std::string(gguf_get_val_str(ctx_, id));
}

std::optional<int64_t> GgufFile::integer(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  const gguf_type t = gguf_get_kv_type(ctx_, id);
  if (!is_integer(t)) bad_key(key, "is not an integer (it is " + std::string(gguf_type_name(t)) + ")");
  if (t == GGUF_TYPE_UINT64) {
    const uint64_t v = gguf_get_val_u64(ctx_, id);
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) bad_key(key, "is out of range");
    return static_cast<int64_t>(v);
  }
  if (t == GGUF_TYPE_INT64) return gguf_get_val_i64(ctx_, id);
  return static_cast<int64_t>(element(t, gguf_get_val_data(ctx_, id), 0));
}

std::optional<double> GgufFile::number(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  const gguf_type t = gguf_get_kv_type(ctx_, id);
  if (!is_integer(t) && t != GGUF_TYPE_FLOAT32 && t != GGUF_TYPE_FLOAT64)
    bad_key(key, "is not a number (it is " + std::string(gguf_type_name(t)) + ")");
  return element(t, gguf_get_val_data(ctx_, id), 0);
}

std::optional<bool> GgufFile::boolean(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  if (gguf_get_kv_type(ctx_, id) != GGUF_TYPE_BOOL) bad_key(key, "is not a bool");
  return gguf_get_val_bool(ctx_, id);
}

std::optional<std::vector<std::string>> GgufFile::texts(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  if (gguf_get_kv_type(ctx_, id) != GGUF_TYPE_ARRAY || gguf_get_arr_type(ctx_, id) != GGUF_TYPE_STRING)
    bad_key(key, "is not an array of strings");
  const size_t n = gguf_get_arr_n(ctx_, id);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(gguf_get_arr_str(ctx_, id, i));
  return out;
}

std::optional<std::vector<double>> GgufFile::numbers(const std::string& key) const {
  const int64_t id = key_id(key);
  if (id < 0) return std::nullopt;
  const gguf_type at = gguf_get_kv_type(ctx_, id) == GGUF_TYPE_ARRAY ? gguf_get_arr_type(ctx_, id) : GGUF_TYPE_COUNT;
  if (!is_integer(at) && at != GGUF_TYPE_FLOAT32 && at != GGUF_TYPE_FLOAT64) bad_key(key, "is not an array of numbers");
  const size_t n = gguf_get_arr_n(ctx_, id);
  const void* data = gguf_get_arr_data(ctx_, id);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = element(at, data, i);
  return out;
}

const GgufTensorInfo* GgufFile::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

void GgufFile::dequantize(const GgufTensorInfo& t, float* out) const {
  if (t.numel == 0) return;  // an empty dimension: nothing to read (and `out` may be null)
  const unsigned char* src = map_->data() + t.offset;  // inside the file: checked at open
  if (t.type == GGML_TYPE_F32) {
    std::memcpy(out, src, static_cast<size_t>(t.numel) * sizeof(float));
    return;
  }
  ggml_get_type_traits(static_cast<ggml_type>(t.type))->to_float(src, out, t.numel);
}

}  // namespace imsm
