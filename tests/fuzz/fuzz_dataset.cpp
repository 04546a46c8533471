// A training or test set: JSON lines or one JSON array (Alpaca), split into
// prompt and answer by the official fields.
#include "fuzz_util.h"
#include "train/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool array = size > 0 && data[0] == '[';
  const std::string path = imsm::fuzz::write_input(data, size, array ? "-data.json" : "-data.jsonl");
  imsm::fuzz::expect_clean([&] {
    for (const auto& e : imsm::read_examples(path)) (void)e;
  });
  return 0;
}
