// imsm export --adapter DIR --out DIR [--force] [--model DIR] [--dtype auto|f32|bf16|f16] [--json]
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
      "export", "Merge a PEFT adapter into its base model and write a Hugging Face model folder (an IMSM adapter is copied with its gate)");
  cmd->add_option("--adapter", req->adapter_dir, "The adapter folder (adapter_config.json, adapter_model.safetensors[, imsm_config.json])")
      ->required();
  cmd->add_option("--out", req->out_dir, "Folder to write; must not exist or be empty, unless --force")->required();
  cmd->add_flag("--force", req->force, "Replace --out if it exists (once the new folder is whole)");
  cmd->add_option("--model", req->model_dir, "The base model folder (default: the adapter's base_model_name_or_path)");
  add_dtype_flag(cmd, req->dtype, "auto (the base checkpoint's), f32, bf16 or f16: of the merged weights");
  cmd->add_flag("--json", *json_out, "Print one JSON object {merged, method, dtype, model, out} on stdout");
  cmd->callback([&run, req, json_out] {
    run = [req, json_out] {
      ExportResult r;
      run_with_progress("export", [&](const Hooks& hooks) { r = run_export(*req, hooks); });
      if (*json_out)
        std::cout << nlohmann::json{{"merged", r.merged}, {"method", r.method}, {"dtype", r.dtype}, {"model", r.model_dir}, {"out", r.out_dir}}.dump()
                  << "\n";
      log::info(r.note);
      return 0;
    };
  });
}

}  // namespace imsm::cli
