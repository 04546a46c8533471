#include "recipes/export_gguf.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "gguf/gguf_export.h"
#include "gguf/gguf_quant.h"
#include "gguf/gguf_vocab.h"
#include "io/hf_config.h"
#include "model/llama.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

// Ollama's Modelfile: the file, and the end-of-sequence tokens as stops
// (Ollama reads the chat template from the GGUF's tokenizer.chat_template).
void write_modelfile(const fs::path& path, const std::string& gguf_name, const std::string& label, const GgufVocab& vocab) {
  std::ofstream out(path);
  out << "# Ollama: ollama create NAME -f Modelfile, then ollama run NAME\n"
      << "# " << label << "\n";
  out << (vocab.chat_template.empty() ? "# The model has no chat template: prompts go to it as they are.\n"
                                      : "# The chat template travels in the GGUF's metadata (tokenizer.chat_template).\n");
  out << "FROM ./" << gguf_name << "\n";
  if (vocab.chat_template.empty()) out << "TEMPLATE \"{{ .Prompt }}\"\n";
  for (const auto& stop : vocab.stop_tokens) {
    std::string quoted;
    for (const char ch : stop) quoted += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
    out << "PARAMETER stop \"" << quoted << "\"\n";
  }
}

}  // namespace

void check_gguf_request(const ExportRequest& r) { (void)gguf_quant(r.quant, "--quant"); }

GgufExportFiles write_gguf_export(const ExportRequest& r, const LlamaModel& model, const std::string& model_dir, const std::string& out,
                                  const std::string& label, const Hooks& hooks) {
  const GgufQuant quant = gguf_quant(r.quant, "--quant");
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  const ModelConfig& config = model.config();
  const GgufVocab vocab = read_hf_vocab(model_dir, config);
  std::map<std::string, torch::Tensor> weights;  // name -> [out, in] (or [n]) in the model's dtype
  for (const auto& [name, t] : model.named_weights()) weights.emplace(name, t);
  const WeightValues values = [&](const std::string& name) {
    const torch::Tensor t = weights.at(name).detach().to(torch::kCPU, torch::kFloat32).contiguous();  // fp32, row-major
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  };
  GgufExportFiles files;
  const std::string stem = fs::path(r.out_dir).filename().string();
  files.file = (stem.empty() ? std::string("model") : stem) + "." + quant.name + ".gguf";
  const GgufExportResult written =
      write_gguf_model((fs::path(out) / files.file).string(), config, config_path, vocab, label, quant, values, hooks);
  write_modelfile(fs::path(out) / "Modelfile", files.file, label, vocab);
  files.types = written.types;
  files.bytes = written.bytes;
  return files;
}

}  // namespace imsm
