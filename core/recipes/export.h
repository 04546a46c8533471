// Recipe: export a fine-tuned model for other tools. A PEFT adapter (LoRA,
// rsLoRA, DoRA, (IA)³, AdaLoRA, or an IMSM adapter of the variant none) is
// merged into the base weights and written as a Hugging Face model folder —
// config.json, model.safetensors, the base's tokenizer and generation files —
// that transformers loads as it is. An IMSM adapter with a gate cannot be
// merged: its output mixes two streams per token (the original model's and the
// tuned one's), which no single set of weights computes; the folder then holds
// the PEFT adapter and the gate files, to be loaded with the base by imsm.
//
// --format gguf writes the merged model as one GGUF file for llama.cpp and
// Ollama, in the --quant type (export_gguf.h), with an Ollama Modelfile; no
// adapter: the base model alone. An IMSM adapter with a gate is refused
// there unless drop_gate: then its PEFT part alone (the tuned stream) goes out.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "config/export_request.h"
#include "util/run_protocol.h"

namespace imsm {

struct ExportResult {
  bool merged = false;        // false: an IMSM adapter, copied with its gate
  std::string method;         // "LoRA", "DoRA", "(IA)³", "AdaLoRA", "IMSM(LoRA)", ...
  std::string dtype;          // of the written weights (merged only): "f32", "bf16", "f16"; gguf: the --quant
  std::string model_dir;      // the base model used
  std::string out_dir;
  std::string format;         // "hf" | "gguf"
  std::string file;           // gguf: the .gguf written (inside out_dir)
  std::map<std::string, int64_t> tensor_types;  // gguf: ggml type -> tensors of it
  int64_t calibration_tokens = 0;               // gguf with --calibration: tokens of its importance matrix
  std::string note;           // for people: what was written and how to load it
};

// What an adapter folder holds, for a dialog to say before exporting it.
struct AdapterSummary {
  std::string method;          // "LoRA", "IMSM(LoRA)", "(IA)³", ...
  bool mixes_streams = false;  // an IMSM adapter (any variant but none): GGUF only with drop_gate, hf copies it
  bool gguf_lora = false;      // a plain LoRA or rsLoRA that --adapter-only can write as a GGUF LoRA
};
// BadInput naming adapter_config.json when it is missing or malformed.
AdapterSummary summarize_adapter(const std::string& adapter_dir);

// BadInput naming the folder, flag or key for a missing or unreadable adapter
// or model, an unknown format or quantization (with the list), an IMSM
// adapter with a gate as GGUF without drop_gate, or an output folder that is
// not empty without force (nothing is overwritten). The output appears whole or not at all (written beside it,
// then renamed; with force the old folder goes only once the new one is whole).
ExportResult run_export(const ExportRequest& request, const Hooks& hooks = {});

}  // namespace imsm
