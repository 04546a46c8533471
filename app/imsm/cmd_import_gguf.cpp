// imsm import-gguf FILE.gguf --out DIR [--dtype f32|bf16] [--force] [--json]
#include <iostream>

#include "commands.h"
#include "setting_flags.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "util/log.h"
#ifdef IMSM_WITH_GGUF
#include "recipes/import_gguf.h"
#endif

namespace imsm::cli {

#ifdef IMSM_WITH_GGUF
void add_import_gguf(CLI::App& app, Run& run) {
  auto req = std::make_shared<ImportGgufRequest>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "import-gguf", "Write a GGUF model (llama.cpp, Ollama) as a Hugging Face folder: config, dequantized weights, tokenizer, chat template");
  cmd->add_option("FILE.gguf", req->gguf_path, "The GGUF file (architectures llama, qwen2, qwen3; any quantization ggml dequantizes)")->required();
  cmd->add_option("--out", req->out_dir, "Folder to write; must not exist or be empty, unless --force")->required();
  add_dtype_flag(cmd, req->dtype, "f32 or bf16: of the written weights");
  cmd->add_flag("--force", req->force, "Replace --out if it exists (once the new folder is whole)");
  cmd->add_flag("--json", *json_out, "Print one JSON object {out, name, architecture, tokenizer, dtype, parameters, source_types, chat_template}");
  cmd->callback([&run, req, json_out] {
    run = [req, json_out] {
      ImportGgufResult r;
      run_with_progress("import", [&](const Hooks& hooks) { r = run_import_gguf(*req, hooks); });
      if (*json_out)
        std::cout << nlohmann::json{{"out", r.out_dir},           {"name", r.name},     {"architecture", r.architecture},
                                    {"tokenizer", r.tokenizer},   {"dtype", r.dtype},   {"parameters", r.parameters},
                                    {"source_types", r.source_types}, {"chat_template", r.chat_template}}
                         .dump()
                  << "\n";
      log::info(r.note);
      return 0;
    };
  });
}
#else
void add_import_gguf(CLI::App& app, Run& run) {
  CLI::App* cmd = app.add_subcommand("import-gguf", "(not in this build: it was built without llama.cpp's ggml)");
  cmd->allow_extras();
  cmd->callback([&run] {
    run = [] {
      std::cerr << "imsm import-gguf: this build has no GGUF support; run bash installer/setup-llama-cpp.sh, then configure and build again\n";
      return 2;
    };
  });
}
#endif

}  // namespace imsm::cli
