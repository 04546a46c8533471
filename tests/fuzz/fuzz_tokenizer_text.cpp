// Fuzzed text through fixed tokenizers: the bundled model's byte-level BPE
// (the Llama 3 / Qwen pipeline: regex split, byte map, merges, added tokens)
// and a SentencePiece-style BPE (Metaspace, byte fallback). Beside the
// sanitizers it checks what must hold for any text:
//  - encoding twice gives the same ids (the second is served by the word cache);
//  - every id is in the vocabulary;
//  - the byte-level BPE, which has no normalizer, gives back exactly the
//    text it encoded (valid UTF-8, no special token added).
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto byte_level = imsm::load_tokenizer(IMSM_FUZZ_BYTE_LEVEL);
  static const auto spm_style = imsm::load_tokenizer(IMSM_FUZZ_SPM_STYLE);
  const std::string text(reinterpret_cast<const char*>(data), size);
  imsm::fuzz::expect_clean([&] {
    for (const imsm::Tokenizer* tok : {byte_level.get(), spm_style.get()}) {
      for (const bool special : {true, false}) {
        const std::vector<int32_t> ids = tok->encode(text, special);
        if (tok->encode(text, special) != ids) imsm::fuzz::finding("encoding the same text twice gave other ids");
        for (const int32_t id : ids)
          if (id < 0 || id >= tok->vocab_size()) imsm::fuzz::finding("id " + std::to_string(id) + " outside the vocabulary");
        const std::string back = tok->decode(ids, false);
        if (tok == byte_level.get() && !special && imsm::utf8::is_valid(text) && back != text)
          imsm::fuzz::finding("the byte-level BPE decoded \"" + imsm::utf8::printable(back) + "\", not the text it encoded");
      }
    }
  });
  return 0;
}
