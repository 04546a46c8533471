#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8},         {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},           {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1}, {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};
// Above this a header is not a header (the Rust crate uses 100 MB too).
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
}  // namespace

const char* dtype_name(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.name;
  return "?";
}

size_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes)
    if (d.dtype == dtype) return d.size;
  return 0;
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (const auto& d : kDTypes) {
    if (name == d.name) {
      *out = d.dtype;
      return true;
    }
  }
  return false;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (const int64_t s : shape) n *= s;
  return n;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) { return parse(MappedFile::open(path)); }

namespace {

// The JSON header after its 8-byte little-endian length, checked against the file's size.
std::string_view header_of(const MappedFile& file) {
  const std::string& where = file.path();
  if (file.size() < 8) throw_bad_input(where, "truncated safetensors file: " + std::to_string(file.size()) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file.data()[i];
  if (header_len > kMaxHeaderBytes) throw_bad_input(where, "safetensors header length " + std::to_string(header_len) + " is implausibly large (corrupt file?)");
  if (header_len > file.size() - 8)
    throw_bad_input(where, "safetensors header length " + std::to_string(header_len) + " is beyond the end of the file (" +
                               std::to_string(file.size()) + " bytes): truncated or not a safetensors file");
  return {reinterpret_cast<const char*>(file.data() + 8), header_len};
}

// A tensor's shape, checked not to overflow the byte count.
uint64_t read_shape(const json::Json& info, const std::string& key_where, std::vector<int64_t>& shape) {
  const json::Json& dims = json::require(info, "shape", key_where);
  if (!dims.is_array()) throw_bad_input(key_where, "shape must be an array");
  uint64_t numel = 1;
  for (const auto& dim : dims) {
    if (!dim.is_number_unsigned()) throw_bad_input(key_where, "shape entries must be non-negative integers");
    const uint64_t d = dim.get<uint64_t>();
    if (d != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / d) throw_bad_input(key_where, "shape is too large");
    numel *= d;
    shape.push_back(static_cast<int64_t>(d));
  }
  return numel;
}

// One header entry: dtype, shape and offsets, the bytes they need inside the data section.
TensorView tensor_of(const std::string& name, const json::Json& info, const std::string& key_where, const unsigned char* data_start,
                     uint64_t data_size) {
  if (!info.is_object()) throw_bad_input(key_where, "header entry is not an object");
  TensorView t;
  t.name = name;
  const std::string dtype = json::get_string(info, "dtype", key_where);
  if (!dtype_from_name(dtype, &t.dtype)) throw_bad_input(key_where, "unknown dtype \"" + dtype + "\"");
  const uint64_t numel = read_shape(info, key_where, t.shape);
  const json::Json& offsets = json::require(info, "data_offsets", key_where);
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    throw_bad_input(key_where, "data_offsets must be two non-negative integers");
  const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end) throw_bad_input(key_where, "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] run backwards");
  if (end > data_size)
    throw_bad_input(key_where, "data_offsets end " + std::to_string(end) + " is beyond the data section (" +
                                   std::to_string(data_size) + " bytes): file truncated?");
  const uint64_t expected = numel * dtype_size(t.dtype);
  if (end - begin != expected)
    throw_bad_input(key_where, "holds " + std::to_string(end - begin) + " bytes but shape and dtype " + dtype + " need " +
                                   std::to_string(expected));
  t.data = data_start + begin;
  t.nbytes = end - begin;
  return t;
}

// Tensors must tile the data section: no overlaps and no holes (as the reference crate).
void check_tiling(const std::vector<TensorView>& tensors, const unsigned char* data_start, uint64_t data_size, const std::string& where) {
  std::vector<const TensorView*> by_offset;
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorView* a, const TensorView* b) {
    return a->data != b->data ? a->data < b->data : a->nbytes < b->nbytes;
  });
  uint64_t cursor = 0;
  for (const TensorView* t : by_offset) {
    const uint64_t begin = static_cast<uint64_t>(t->data - data_start);
    if (begin < cursor) throw_bad_input(where + ": tensor \"" + t->name + "\"", "data overlaps the previous tensor's bytes");
    if (begin > cursor) throw_bad_input(where + ": tensor \"" + t->name + "\"", "data leaves a gap of " + std::to_string(begin - cursor) + " bytes before it");
    cursor = begin + t->nbytes;
  }
  if (cursor != data_size)
    throw_bad_input(where, "data section has " + std::to_string(data_size - cursor) + " bytes not owned by any tensor");
}

}  // namespace

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const MappedFile> file) {
  const std::string& where = file->path();
  const std::string_view header_text = header_of(*file);
  const json::Json header = json::parse(header_text, where + " (header)");
  if (!header.is_object()) throw_bad_input(where, "safetensors header is not a JSON object");

  SafetensorsFile out;
  out.file_ = file;
  const unsigned char* data_start = file->data() + 8 + header_text.size();
  const uint64_t data_size = file->size() - 8 - header_text.size();
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw_bad_input(where, "__metadata__ must be an object of strings");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) throw_bad_input(where, "__metadata__ value of \"" + k + "\" is not a string");
        out.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    TensorView t = tensor_of(name, info, where + ": tensor \"" + name + "\"", data_start, data_size);
    out.index_[name] = out.tensors_.size();
    out.tensors_.push_back(std::move(t));
  }
  check_tiling(out.tensors_, data_start, data_size, where);
  return out;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace imsm
