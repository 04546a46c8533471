#include "io/safetensors_writer.h"

#include <cstdio>
#include <fstream>
#include <set>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // nlohmann::ordered_json keeps our order; readers do not depend on it.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (!names.insert(t.name).second) throw_internal("write_safetensors: duplicate tensor name " + t.name);
    uint64_t numel = 1;
    for (const int64_t s : t.shape) numel *= static_cast<uint64_t>(s);
    const uint64_t nbytes = numel * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text += ' ';

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw_bad_input(tmp, "cannot create file");
    unsigned char len[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i, n >>= 8) len[i] = static_cast<unsigned char>(n & 0xFF);
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : tensors) {
      uint64_t numel = 1;
      for (const int64_t s : t.shape) numel *= static_cast<uint64_t>(s);
      out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(numel * dtype_size(t.dtype)));
    }
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw_bad_input(path, "write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw_bad_input(path, "cannot move the finished file into place");
  }
}

}  // namespace imsm
