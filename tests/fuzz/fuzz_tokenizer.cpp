// A fuzzed tokenizer.json loaded, then text encoded with it and the ids
// decoded: the input is the file, a 0 byte, and the text (no 0 byte: the
// file alone). The seeds are small tokenizers (a byte-level BPE cut to 60
// merges, a SentencePiece-style BPE): loading a real 128k vocabulary per
// input would leave a few dozen inputs a second. Text alone, with real
// tokenizers: fuzz_tokenizer_text.
#include <cstring>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* zero = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t file_size = zero ? static_cast<size_t>(zero - data) : size;
  const std::string text = zero ? std::string(reinterpret_cast<const char*>(zero + 1), data + size - zero - 1) : std::string();
  const std::string path = imsm::fuzz::write_input(data, file_size, "-tokenizer.json");
  imsm::fuzz::expect_clean([&] {
    const auto tok = imsm::load_tokenizer(path);
    for (const bool special : {true, false}) {
      const auto ids = tok->encode(text, special);
      (void)tok->decode(ids, !special);
    }
  });
  return 0;
}
