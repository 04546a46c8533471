// The GGUF half of the export recipe (export.h, --format gguf): a merged
// model as one GGUF file (gguf/gguf_export.h) and an Ollama Modelfile beside
// it, in the output folder. A build without llama.cpp (IMSM_WITH_GGUF off)
// links export_gguf_off.cpp instead, whose functions say so.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "config/export_request.h"
#include "util/run_protocol.h"

namespace imsm {

struct LoadedModel;
struct GgufVocab;

// What check_gguf_model read of the base, kept for the writing: its
// vocabulary as the GGUF carries it (null with --adapter-only, and in a
// build without GGUF).
struct GgufModelCheck {
  std::shared_ptr<const GgufVocab> vocab;
};

struct GgufExportFiles {
  int64_t calibration_tokens = 0;        // of the importance matrix, 0: none
  std::string file;                      // the .gguf, inside the output folder
  std::map<std::string, int64_t> types;  // ggml type -> tensors of it
  int64_t bytes = 0;
};

// The --quant names, "f32, f16, bf16, q8_0, q4_k_m"; "" in a build without GGUF.
std::string gguf_quant_list();

// "" when --adapter-only can write a GGUF LoRA in the --quant `quant`, else
// why not (gguf/gguf_quant.h; "" in a build without GGUF, which refuses all).
std::string gguf_lora_refusal(const std::string& quant);

// BadInput naming --quant with the list for a type the export does not write,
// or --calibration with a type whose quantizer takes no importance matrix
// (before any model is loaded).
void check_gguf_request(const ExportRequest& request);

// BadInput before any work when the base model (model_dir) has no llama.cpp
// architecture, a tokenizer the export cannot write (merged), or the adapter
// a method or scaling a GGUF LoRA cannot hold (adapter_only).
GgufModelCheck check_gguf_model(const ExportRequest& request, const std::string& model_dir);

// Writes <out>/<name>.<quant>.gguf and <out>/Modelfile into `out` (the
// folder being written), with the vocabulary `checked` holds. `loaded` holds the merged weights; `model_dir` is
// the base folder (its config and tokenizer), `label` what general.name says.
// With request.calibration, its first calibration_rows rows (encoded as
// training encodes them) give the importance matrix the quantizer uses.
GgufExportFiles write_gguf_export(const ExportRequest& request, const GgufModelCheck& checked, LoadedModel& loaded, const std::string& model_dir,
                                  const std::string& out, const std::string& label, const Hooks& hooks);

// Writes <out>/<name>.lora.<quant>.gguf: a plain LoRA or rsLoRA adapter
// (request.adapter_dir) as a GGUF LoRA (gguf/gguf_lora.h), without loading a
// model. BadInput naming the adapter's config for DoRA, (IA)³, AdaLoRA or
// per-module alphas, which llama.cpp's LoRA cannot express.
GgufExportFiles write_gguf_lora_export(const ExportRequest& request, const std::string& model_dir, const std::string& out,
                                       const Hooks& hooks);

}  // namespace imsm
