#include "recipes/export_gguf.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "gguf/gguf_export.h"
#include "gguf/gguf_lora.h"
#include "gguf/gguf_quant.h"
#include "gguf/gguf_vocab.h"
#include "io/hf_config.h"
#include "io/json_file.h"
#include "model/llama.h"
#include "recipes/loaded_model.h"
#include "recipes/train.h"
#include "tokenizer/tokenizer.h"
#include "train/activation_stats.h"
#include "peft/peft_config.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

constexpr int64_t kCalibrationTokens = 512;  // a row's longest part (prompt, answer) as llama-imatrix's default chunk
constexpr int64_t kCalibrationBatch = 8;

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

std::string file_stem(const ExportRequest& r) {
  const std::string stem = fs::path(r.out_dir).filename().string();
  return stem.empty() ? std::string("model") : stem;
}

// What llama.cpp divides by r to scale B·A: lora_alpha, or lora_alpha·sqrt(r) for rsLoRA (alpha / sqrt(r)).
double llama_cpp_alpha(const std::string& adapter_dir) {
  const std::string where = (fs::path(adapter_dir) / "adapter_config.json").string();
  const PeftConfig peft = read_adapter_config(where);
  if (peft.method != PeftMethod::LoRA)
    throw_bad_input(where, method_name(peft.method) + " cannot be a GGUF LoRA (llama.cpp applies B·A only): export it merged, without --adapter-only");
  const nlohmann::json raw = json::read_file(where);
  for (const char* key : {"alpha_pattern", "rank_pattern"})
    if (raw.contains(key) && raw[key].is_object() && !raw[key].empty())
      throw_bad_input(where, std::string(key) + " gives modules their own scaling, which a GGUF LoRA's one alpha cannot: export it merged");
  return peft.use_rslora ? peft.alpha * std::sqrt(static_cast<double>(peft.r)) : peft.alpha;
}

// The importance matrix of the merged model on the calibration file's first rows.
ImportanceMatrix calibrate(const ExportRequest& r, LoadedModel& loaded, const Hooks& hooks) {
  if (loaded.tokenizer == nullptr) throw_bad_input("--calibration", "needs the model's tokenizer, and " + loaded.source.model_dir + " has none");
  TrainConfig reading;  // the file read as training reads it (bare prompts, as llama-imatrix reads text), each part up to the chunk
  reading.max_input_length = reading.max_output_length = std::min<int64_t>(loaded.model->config().max_position_embeddings, kCalibrationTokens);
  reading.chat_template = "off";
  const ExampleEncoding encoding = example_encoding(reading, *loaded.tokenizer, loaded.model->config());
  std::vector<EncodedExample> rows = encode_training_file(r.calibration, reading, *loaded.tokenizer, encoding, r.calibration_rows);
  for (EncodedExample& row : rows) {
    row.ids.resize(std::min(row.ids.size(), static_cast<size_t>(reading.max_input_length)));
    row.labels.resize(row.ids.size());
  }
  return importance_matrix(*loaded.model, rows, kCalibrationBatch, hooks);
}

}  // namespace

GgufModelCheck check_gguf_model(const ExportRequest& r, const std::string& model_dir) {
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  const ModelConfig config = read_model_config(config_path);
  (void)gguf_architecture_of(config, config_path);
  GgufModelCheck checked;
  if (r.adapter_only)
    (void)llama_cpp_alpha(r.adapter_dir);  // a method or scaling a GGUF LoRA cannot hold
  else
    checked.vocab = std::make_shared<const GgufVocab>(read_hf_vocab(model_dir, config));
  return checked;
}

GgufExportFiles write_gguf_lora_export(const ExportRequest& r, const std::string& model_dir, const std::string& out, const Hooks& hooks) {
  const GgufQuant quant = gguf_quant(r.quant, "--quant");
  const double alpha = llama_cpp_alpha(r.adapter_dir);
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  GgufExportFiles files;
  files.file = file_stem(r) + ".lora." + quant.name + ".gguf";
  const GgufLoraResult written = write_gguf_lora((fs::path(out) / files.file).string(),
                                                 (fs::path(r.adapter_dir) / "adapter_model.safetensors").string(),
                                                 read_model_config(config_path), config_path, alpha, quant, hooks);
  files.types = written.types;
  files.bytes = written.bytes;
  return files;
}

std::string gguf_quant_list() { return gguf_quant_names(); }

std::string gguf_lora_refusal(const std::string& quant) { return gguf_lora_quant_refusal(quant); }

void check_gguf_request(const ExportRequest& r) {
  const GgufQuant quant = gguf_quant(r.quant, "--quant");
  if (!r.calibration.empty() && quant.name != "q4_k_m")
    throw_bad_input("--calibration", "gives an importance matrix, which " + quant.name +
                                         "'s quantizer does not take (ggml's K-quants and q5_0 do): it goes with --quant q4_k_m");
  if (r.adapter_only && !gguf_lora_refusal(quant.name).empty()) throw_bad_input("--quant", gguf_lora_refusal(quant.name));
  if (r.calibration_rows <= 0) throw_bad_input("--calibration-rows", "must be positive, got " + std::to_string(r.calibration_rows));
}

GgufExportFiles write_gguf_export(const ExportRequest& r, const GgufModelCheck& checked, LoadedModel& loaded, const std::string& model_dir, const std::string& out,
                                  const std::string& label, const Hooks& hooks) {
  const GgufQuant quant = gguf_quant(r.quant, "--quant");
  const LlamaModel& model = *loaded.model;
  const ImportanceMatrix importance = r.calibration.empty() ? ImportanceMatrix{} : calibrate(r, loaded, hooks);
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  const ModelConfig& config = model.config();
  const GgufVocab& vocab = *checked.vocab;
  std::map<std::string, torch::Tensor> weights;  // name -> [out, in] (or [n]) in the model's dtype
  for (const auto& [name, t] : model.named_weights()) weights.emplace(name, t);
  const WeightValues values = [&](const std::string& name) {
    const torch::Tensor t = weights.at(name).detach().to(torch::kCPU, torch::kFloat32).contiguous();  // fp32, row-major
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  };
  GgufExportFiles files;
  files.file = file_stem(r) + "." + quant.name + ".gguf";
  const GgufExportResult written =
      write_gguf_model((fs::path(out) / files.file).string(), config, config_path, vocab, label, quant, values, hooks,
                       {importance_means(importance), "imatrix.gguf", r.calibration, importance.rows});
  if (importance.tokens > 0)  // for llama-quantize --imatrix, as llama-imatrix would have written it
    write_gguf_imatrix((fs::path(out) / "imatrix.gguf").string(), importance.sum_square, importance.tokens, r.calibration,
                       importance.rows, kCalibrationTokens);
  files.calibration_tokens = importance.tokens;
  write_modelfile(fs::path(out) / "Modelfile", files.file, label, vocab);
  files.types = written.types;
  files.bytes = written.bytes;
  return files;
}

}  // namespace imsm
