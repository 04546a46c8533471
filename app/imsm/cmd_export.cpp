// imsm export --adapter DIR --out DIR [--force] [--model DIR] [--dtype auto|f32|bf16|f16] [--json]
//             [--format hf|gguf] [--quant f32|f16|bf16|q8_0|q4_k_m] [--adapter-only] [--drop-gate]
//             [--calibration FILE [--calibration-rows N]]
#include <iostream>

#include "commands.h"
#include "setting_flags.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/export.h"
#include "util/log.h"

namespace imsm::cli {

void add_export(CLI::App& app, Run& run) {
  auto req = std::make_shared<ExportRequest>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Merge a PEFT adapter into its base model and write a Hugging Face model folder (an IMSM adapter is copied with its gate), "
      "or a GGUF file for llama.cpp and Ollama with a Modelfile");
  cmd->add_option("--adapter", req->adapter_dir,
                  "The adapter folder (adapter_config.json, adapter_model.safetensors[, imsm_config.json]); "
                  "--format gguf without it writes the --model alone");
  cmd->add_option("--out", req->out_dir, "Folder to write; must not exist or be empty, unless --force")->required();
  cmd->add_flag("--force", req->force, "Replace --out if it exists (once the new folder is whole)");
  cmd->add_option("--model", req->model_dir, "The base model folder (default: the adapter's base_model_name_or_path)");
  add_dtype_flag(cmd, req->dtype, "auto (the base checkpoint's), f32, bf16 or f16: of the merged weights (--format hf)");
  cmd->add_option("--format", req->format, "hf (a Hugging Face model folder) or gguf (one GGUF file and an Ollama Modelfile)")
      ->capture_default_str();
  cmd->add_option("--quant", req->quant,
                  "--format gguf: f32, f16, bf16, q8_0 or q4_k_m (the tensor types llama-quantize picks for that file type)")
      ->capture_default_str();
  cmd->add_option("--calibration", req->calibration,
                  "--quant q4_k_m: training-format data (the run's own, say) whose rows give the quantizer its importance matrix");
  cmd->add_option("--calibration-rows", req->calibration_rows, "Of --calibration, the first this many rows")->capture_default_str();
  cmd->add_flag("--adapter-only", req->adapter_only,
                "--format gguf of a LoRA: the adapter alone as a GGUF LoRA (llama.cpp's --lora), not merged");
  cmd->add_flag("--drop-gate", req->drop_gate,
                "--format gguf of an IMSM adapter: write its tuned stream alone (the PEFT part merged, without the gate)");
  cmd->add_flag("--json", *json_out, "Print one JSON object {merged, method, format, dtype, model, out, file, tensor_types} on stdout");
  cmd->callback([&run, req, json_out] {
    run = [req, json_out] {
      ExportResult r;
      run_with_progress("export", [&](const Hooks& hooks) { r = run_export(*req, hooks); });
      if (*json_out)
        std::cout << nlohmann::json{{"merged", r.merged}, {"method", r.method},   {"format", r.format}, {"dtype", r.dtype},
                                    {"model", r.model_dir}, {"out", r.out_dir}, {"file", r.file},     {"tensor_types", r.tensor_types},
                                    {"calibration_tokens", r.calibration_tokens}}
                         .dump()
                  << "\n";
      log::info(r.note);
      return 0;
    };
  });
}

}  // namespace imsm::cli
