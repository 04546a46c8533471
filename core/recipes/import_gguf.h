// Recipe: a GGUF file (llama.cpp, Ollama) as a Hugging Face model folder that
// the engine and transformers both open: config.json and
// generation_config.json from its metadata, model.safetensors dequantized by
// ggml (F32, F16, BF16, Q4_0 ... Q8_0, the K-quants, the IQ types) with
// llama.cpp's Q/K row permutation undone, tokenizer.json and
// tokenizer_config.json (chat template, special tokens) from its vocabulary.
// Torch-free: it lives in imsm_gguf beside ggml.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "util/run_protocol.h"

#include "model/device_spec.h"

namespace imsm {

struct ImportGgufRequest {
  std::string gguf_path;
  std::string out_dir;        // must not exist, or be empty, unless force
  bool force = false;         // replace an existing out_dir once the new one is whole
  Precision dtype = Precision::F32;  // of the written weights: F32 or BF16
};

struct ImportGgufResult {
  std::string out_dir;
  std::string name;                           // general.name
  std::string architecture;                   // the GGUF's: "llama", "qwen2", "qwen3"
  std::string tokenizer;                      // "gpt2" (byte-level BPE) | "llama" (SentencePiece)
  std::string dtype;                          // of the written weights
  int64_t parameters = 0;
  std::map<std::string, int64_t> source_types;  // ggml type -> number of tensors of it ("q4_1": 211, "f32": 61)
  bool chat_template = false;
  std::string note;                           // for people: what was written and how to use it
};

// BadInput naming the file, key or tensor: not a GGUF llama.cpp's reader
// accepts, truncated tensor data, an architecture, tokenizer or tensor type
// that is not supported (with the list), an output folder that is not empty
// without force. Nothing is written then. Cancelled between tensors when
// hooks.should_abort() says so, leaving out_dir as it was.
ImportGgufResult run_import_gguf(const ImportGgufRequest& request, const Hooks& hooks = {});

}  // namespace imsm
