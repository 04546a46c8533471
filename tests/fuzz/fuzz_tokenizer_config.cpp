// tokenizer_config.json: add_bos_token, add_eos_token, the bos/eos tokens (strings or objects).
#include "fuzz_util.h"
#include "tokenizer/tokenizer_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, "-tokenizer_config.json");
  imsm::fuzz::expect_clean([&] { (void)imsm::read_tokenizer_config(path); });
  return 0;
}
