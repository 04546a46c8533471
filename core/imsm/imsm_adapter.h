// Opening an adapter folder: a PEFT adapter, or an IMSM adapter (a PEFT
// adapter plus imsm_gate.safetensors and imsm_config.json).
#pragma once
#include <memory>
#include <string>

#include "imsm/gate.h"
#include "peft/peft_model.h"

namespace imsm {

struct LoadedAdapter {
  std::unique_ptr<PeftAdapters> adapters;
  std::unique_ptr<ImsmGate> gate;  // null for a plain PEFT adapter or the variant none
};

// Attaches the adapter to `model`; BadInput naming the file for any mismatch.
LoadedAdapter load_adapter(LlamaModel& model, const std::string& dir);

}  // namespace imsm
