// A PEFT adapter_config.json (LoRA, DoRA, AdaLoRA with its rank pattern, (IA)³).
#include "fuzz_util.h"
#include "peft/peft_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, "-adapter_config.json");
  imsm::fuzz::expect_clean([&] {
    const imsm::PeftConfig c = imsm::read_adapter_config(path);
    (void)c.to_adapter_config();
    (void)c.targets("model.layers.3.self_attn.q_proj");
  });
  return 0;
}
