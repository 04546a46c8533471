// safetensors: the header, the tensor table, every tensor's bytes read.
#include "fuzz_util.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, ".safetensors");
  imsm::fuzz::expect_clean([&] {
    const auto file = imsm::SafetensorsFile::open(path);
    uint64_t sum = 0;
    for (const auto& t : file.tensors())
      for (size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];  // every byte in bounds (ASan)
    if (sum == 1) std::fprintf(stderr, " ");
  });
  return 0;
}
