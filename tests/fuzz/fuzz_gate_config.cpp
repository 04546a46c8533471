// An IMSM adapter's imsm_config.json (the gate beside a PEFT adapter); what
// is read must write back to the same settings.
#include "fuzz_util.h"
#include "imsm/gate_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, "-imsm_config.json");
  imsm::fuzz::expect_clean([&] {
    const imsm::GateConfig c = imsm::read_gate_config(path);
    const std::string again = imsm::fuzz::write_text(imsm::gate_config_json(c).dump(), "-imsm_config-again.json");
    const imsm::GateConfig d = imsm::read_gate_config(again);
    if (d.variant != c.variant || d.rank != c.rank || d.hidden_size != c.hidden_size || d.dropout != c.dropout ||
        (c.variant == imsm::GateVariant::NoGate && d.alpha != c.alpha))
      imsm::fuzz::finding("imsm_config.json written back reads as other settings");
  });
  return 0;
}
