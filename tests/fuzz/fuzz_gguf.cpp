// GGUF: ggml's reader on the file, then imsm's checks, the model's settings
// and tensor names, the tokenizer, and every tensor dequantized. Properties
// beside the sanitizers: every tensor's data lies inside the file and holds
// exactly the bytes its type and shape need (what the dequantizer reads).
#include <ggml.h>

#include <vector>

#include "fuzz_util.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_model.h"
#include "gguf/gguf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, ".gguf");
  imsm::fuzz::expect_clean([&] {
    const auto file = imsm::GgufFile::open(path);
    for (const auto& t : file->tensors()) {
      if (t.offset > size || t.nbytes > size - t.offset) imsm::fuzz::finding("tensor " + t.name + " reaches past the end of the file");
      const int64_t row = t.shape.empty() ? 1 : t.shape.back();  // 0 for a tensor with an empty dimension: no bytes
      const bool sized = row == 0 ? t.nbytes == 0
                                  : t.numel % row == 0 &&
                                        ggml_row_size(static_cast<ggml_type>(t.type), row) * static_cast<size_t>(t.numel / row) == t.nbytes;
      if (!sized)
        imsm::fuzz::finding("tensor " + t.name + " holds " + std::to_string(t.nbytes) + " bytes, not what its type and shape need");
      if (t.numel <= (int64_t{1} << 22)) {  // 16 MiB of floats at most per tensor: the fuzzer's memory limit
        std::vector<float> out(static_cast<size_t>(t.numel));
        file->dequantize(t, out.data());
      }
    }
    try {
      const auto model = imsm::read_gguf_model(*file);
      for (const auto& w : model.weights)
        if (w.source->numel <= (int64_t{1} << 22)) (void)imsm::read_gguf_weight(*file, w);
    } catch (const imsm::Error& e) {
      if (e.kind() != imsm::ErrorKind::BadInput) throw;
    }
    (void)imsm::read_gguf_tokenizer(*file, 2048);
  });
  return 0;
}
