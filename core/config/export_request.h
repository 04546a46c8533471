// What to export: an adapter, its base model, the output folder, the format
// (a Hugging Face folder, or a GGUF file for llama.cpp and Ollama) and the
// dtype or quantization of merged weights (recipes/export.h runs it). A stored run gives one
// (views/run_table.h, export_request_of). Torch-free.
#pragma once
#include <string>

#include "model/device_spec.h"

namespace imsm {

struct ExportRequest {
  std::string adapter_dir;   // a PEFT or IMSM adapter folder
  std::string model_dir;     // the base model; "" -> the adapter's base_model_name_or_path
  std::string out_dir;       // must not exist, or be empty, unless force
  bool force = false;        // replace an existing out_dir (never the adapter's or the model's own folder)
  Precision dtype = Precision::Auto;  // hf: of the merged weights (auto: the base checkpoint's torch_dtype)
  std::string format = "hf";  // "hf" | "gguf"
  std::string quant = "f16";  // gguf: f32 | f16 | bf16 | q8_0 | q4_k_m (gguf/gguf_quant.h)
  std::string calibration;      // gguf q4_k_m: training-format data whose rows give the importance matrix ("": none)
  int64_t calibration_rows = 256;  // of it, the first this many
  bool adapter_only = false;  // gguf: the LoRA alone, as a GGUF LoRA for llama.cpp's --lora (no merge)
  bool drop_gate = false;     // gguf of an IMSM adapter: merge its PEFT part alone (the tuned stream), without the gate
};

}  // namespace imsm
