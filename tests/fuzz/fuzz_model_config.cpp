// config.json -> the model configuration (and back).
#include "fuzz_util.h"
#include "io/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, "-config.json");
  imsm::fuzz::expect_clean([&] {
    const imsm::ModelConfig c = imsm::read_model_config(path);
    (void)c.num_parameters();
    (void)imsm::parse_model_config(c.to_json(), "round trip");
  });
  return 0;
}
