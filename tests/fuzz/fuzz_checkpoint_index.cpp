// A sharded checkpoint's model.safetensors.index.json (its weight_map naming
// shards that may or may not be there), beside one small real shard.
#include <filesystem>
#include <fstream>

#include "fuzz_util.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = "/tmp/imsm-fuzz-index-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    // One shard: header {"a": F32 [2]} and its 8 bytes.
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    std::ofstream shard(d + "/model-00001-of-00002.safetensors", std::ios::binary);
    const uint64_t n = header.size();
    shard.write(reinterpret_cast<const char*>(&n), 8);
    shard << header << std::string(8, '\0');
    return d;
  }();
  std::ofstream(dir + "/model.safetensors.index.json", std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  imsm::fuzz::expect_clean([&] {
    const auto weights = imsm::CheckpointWeights::open(dir);
    for (const auto& name : weights.names()) (void)weights.file_of(name);
  });
  return 0;
}
