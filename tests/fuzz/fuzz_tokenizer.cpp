// tokenizer.json loaded, then text encoded and the ids decoded: the input is
// the tokenizer file, a 0 byte, and the text (no 0 byte: the text alone, with
// a small real byte-level BPE).
#include <cstring>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* zero = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const std::string text = zero ? std::string(reinterpret_cast<const char*>(zero + 1), data + size - zero - 1)
                                : std::string(reinterpret_cast<const char*>(data), size);
  imsm::fuzz::expect_clean([&] {
    static const auto fixed = imsm::load_tokenizer(IMSM_FUZZ_TOKENIZER);
    std::unique_ptr<imsm::Tokenizer> fuzzed;
    if (zero) fuzzed = imsm::load_tokenizer(imsm::fuzz::write_input(data, static_cast<size_t>(zero - data), "-tokenizer.json"));
    const imsm::Tokenizer& tok = fuzzed ? *fuzzed : *fixed;
    for (const bool special : {true, false}) {
      const auto ids = tok.encode(text, special);
      (void)tok.decode(ids, !special);
    }
  });
  return 0;
}
