// Recipe: export a fine-tuned model for other tools. A PEFT adapter (LoRA,
// rsLoRA, DoRA, (IA)³, AdaLoRA, or an IMSM adapter of the variant none) is
// merged into the base weights and written as a Hugging Face model folder —
// config.json, model.safetensors, the base's tokenizer and generation files —
// that transformers loads as it is. An IMSM adapter with a gate cannot be
// merged: its output mixes two streams per token (the original model's and the
// tuned one's), which no single set of weights computes; the folder then holds
// the PEFT adapter and the gate files, to be loaded with the base by imsm.
#pragma once
#include <string>

#include "config/export_request.h"
#include "util/run_protocol.h"

namespace imsm {

struct ExportResult {
  bool merged = false;        // false: an IMSM adapter, copied with its gate
  std::string method;         // "LoRA", "DoRA", "(IA)³", "AdaLoRA", "IMSM(LoRA)", ...
  std::string dtype;          // of the written weights (merged only): "f32", "bf16", "f16"
  std::string model_dir;      // the base model used
  std::string out_dir;
  std::string note;           // for people: what was written and how to load it
};

// BadInput naming the folder or key for a missing or unreadable adapter or
// model, or an output folder that is not empty without force (nothing is
// overwritten). The output appears whole or not at all (written beside it,
// then renamed; with force the old folder goes only once the new one is whole).
ExportResult run_export(const ExportRequest& request, const Hooks& hooks = {});

}  // namespace imsm
