#include "recipes/export.h"

#include <filesystem>
#include <functional>
#include <set>
#include <system_error>

#include "imsm/gate.h"
#include "io/atomic_dir.h"
#include "io/hf_config.h"
#include "io/json_file.h"
#include "model/device.h"
#include "model/llama.h"
#include "model/loader.h"
#include "peft/peft_model.h"
#include "recipes/export_gguf.h"
#include "recipes/loaded_model.h"
#include "report/results.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

// What a model folder holds beside its weights that tools load with them.
const std::set<std::string> kTokenizerFiles = {"tokenizer.json",     "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
                                               "added_tokens.json",  "vocab.json",            "merges.txt",      "generation_config.json",
                                               "chat_template.jinja"};

// An IMSM adapter's variant ("none" for a plain PEFT adapter).
std::string variant_of(const std::string& adapter_dir) {
  const fs::path config = fs::path(adapter_dir) / "imsm_config.json";
  if (!fs::exists(config)) return "none";
  return variant_name(read_gate_config(config.string()).variant);
}

void check_target(const ExportRequest& r, const std::string& model_dir) {
  check_output_dir(r.out_dir, r.force, {r.adapter_dir, model_dir}, "--out", "export");
}

void copy_files(const fs::path& from, const fs::path& to, const std::function<bool(const std::string&)>& wanted) {
  for (const auto& entry : fs::directory_iterator(from))
    if (entry.is_regular_file() && wanted(entry.path().filename().string()))
      fs::copy_file(entry.path(), to / entry.path().filename(), fs::copy_options::overwrite_existing);
}

// The base model with the adapter (if any) merged into its weights. GGUF
// quantizes from fp32: its merge computes and stores in fp32.
std::unique_ptr<LoadedModel> load_merged(const ExportRequest& r, ExportResult& result, bool gguf, const Hooks& hooks) {
  const std::string config_path = (fs::path(result.model_dir) / "config.json").string();
  const Precision checkpoint = checkpoint_precision(read_model_config(config_path));
  const Precision precision = gguf ? Precision::F32 : r.dtype == Precision::Auto ? checkpoint : r.dtype;
  result.dtype = gguf ? r.quant : precisions().name(precision);
  hooks.progress({"load", 0, 3, result.model_dir});
  ModelSource source;
  source.model_dir = result.model_dir;
  source.adapter_dir = r.adapter_dir;
  source.dtype = precision;  // each merge computes in fp32 and stores in this dtype
  auto loaded = load_model(source, TokenizerNeed::IfPresent);
  hooks.check_abort("export cancelled before merging; nothing written");
  hooks.progress({"merge", 1, 3, result.method});
  if (loaded->adapters) loaded->adapters->merge_and_unload();
  return loaded;
}

nlohmann::json provenance(const ExportRequest& r, const ExportResult& result) {
  nlohmann::json from = {{"base_model", fs::absolute(result.model_dir).string()}};
  if (!r.adapter_dir.empty()) from["adapter"] = fs::absolute(r.adapter_dir).string();
  return {{"merged_from", from}, {"method", result.method}, {"format", r.format}, {"dtype", result.dtype}, {"imsm_version", IMSM_VERSION}};
}

void write_hf(const ExportRequest& r, const LoadedModel& loaded, ExportResult& result) {
  write_dir_atomically(r.out_dir, [&](const fs::path& out) {
    save_llama(*loaded.model, out.string(), scalar_type(loaded.source.dtype));
    copy_files(result.model_dir, out, [](const std::string& name) { return kTokenizerFiles.count(name) > 0; });
    json::write_file((out / "imsm_export.json").string(), provenance(r, result));
  });
  result.note = result.method + " merged into " + result.model_dir + " (" + result.dtype + "): " + r.out_dir +
                " is a Hugging Face model folder (AutoModelForCausalLM.from_pretrained loads it)";
}

// general.name: "SmolLM2-135M-Instruct", or "SmolLM2-135M-Instruct + LoRA (LoRA-seed1)" with
// the adapter's folder (its run's, for a run's adapter/ or checkpoint-N/).
std::string gguf_name(const ExportRequest& r, const ExportResult& result) {
  const std::string base = fs::path(result.model_dir).lexically_normal().filename().string();
  if (r.adapter_dir.empty()) return base;
  fs::path adapter = fs::path(r.adapter_dir).lexically_normal();
  if (adapter.filename().empty()) adapter = adapter.parent_path();
  const std::string leaf = adapter.filename().string();
  const std::string run = leaf == "adapter" || leaf.rfind("checkpoint-", 0) == 0 ? adapter.parent_path().filename().string() : leaf;
  return base + " + " + result.method + (run.empty() ? "" : " (" + run + ")");
}

void write_gguf(const ExportRequest& r, const GgufModelCheck& checked, LoadedModel& loaded, ExportResult& result, bool mixes_streams,
                const Hooks& hooks) {
  const std::string what = r.adapter_dir.empty() ? result.model_dir
                                                 : result.method + (mixes_streams ? " without its gate" : "") + " merged into " + result.model_dir;
  write_dir_atomically(r.out_dir, [&](const fs::path& out) {
    const GgufExportFiles files = write_gguf_export(r, checked, loaded, result.model_dir, out.string(), gguf_name(r, result), hooks);
    result.calibration_tokens = files.calibration_tokens;
    result.file = (fs::path(r.out_dir) / files.file).string();
    result.tensor_types = files.types;
    json::write_file((out / "imsm_export.json").string(), provenance(r, result));
  });
  result.note = what + " (" + r.quant + "): " + result.file + " (llama.cpp: llama-cli -m " + result.file + "); Ollama: cd " + r.out_dir +
                " && ollama create NAME -f Modelfile";
}

void write_gguf_lora(const ExportRequest& r, ExportResult& result, bool mixes_streams, const Hooks& hooks) {
  hooks.progress({"write", 0, 1, r.out_dir});
  result.dtype = r.quant;
  result.method += mixes_streams ? " without its gate" : "";
  write_dir_atomically(r.out_dir, [&](const fs::path& out) {
    const GgufExportFiles files = write_gguf_lora_export(r, result.model_dir, out.string(), hooks);
    result.file = (fs::path(r.out_dir) / files.file).string();
    result.tensor_types = files.types;
    json::write_file((out / "imsm_export.json").string(), provenance(r, result));
  });
  hooks.progress({"write", 1, 1, r.out_dir});
  result.note = result.method + " as a GGUF LoRA: " + result.file + " (llama.cpp: llama-cli -m BASE.gguf --lora " + result.file +
                ", BASE.gguf from imsm export --format gguf --model " + result.model_dir + "; Ollama: ADAPTER in a Modelfile)";
}

}  // namespace

AdapterSummary summarize_adapter(const std::string& adapter_dir) {
  const std::string where = (fs::path(adapter_dir) / "adapter_config.json").string();
  const PeftConfig adapter = read_adapter_config(where);
  const std::string variant = variant_of(adapter_dir);
  AdapterSummary s;
  s.method = report::method_label(method_name(adapter.method), variant);
  s.mixes_streams = variant != "none";
  s.gguf_lora = adapter.method == PeftMethod::LoRA;
  return s;
}

ExportResult run_export(const ExportRequest& r, const Hooks& hooks) {
  if (r.format != "hf" && r.format != "gguf")
    throw_bad_input("--format", "\"" + r.format + "\" is not an export format; choose hf (a Hugging Face folder) or gguf (llama.cpp, Ollama)");
  const bool gguf = r.format == "gguf";
  if (gguf) check_gguf_request(r);
  if (r.adapter_dir.empty() && (!gguf || r.adapter_only))
    throw_bad_input("--adapter", gguf ? "is required with --adapter-only" : "is required for --format hf (the base model is already such a folder)");
  if (r.adapter_only && !gguf) throw_bad_input("--adapter-only", "goes with --format gguf (a Hugging Face adapter folder is the adapter itself)");
  ExportResult result;
  result.out_dir = r.out_dir;
  result.format = r.format;
  bool mixes_streams = false;  // an IMSM adapter: two streams mixed per token, which no single set of weights computes
  if (r.adapter_dir.empty()) {  // the base model alone, as GGUF
    result.model_dir = r.model_dir;
    if (r.model_dir.empty() || !fs::exists(fs::path(r.model_dir) / "config.json"))
      throw_bad_input(r.model_dir.empty() ? "--model" : r.model_dir, "names no model folder with a config.json: give --adapter, --model or both");
    check_target(r, result.model_dir);
    result.method = "base model";
  } else {
    result.model_dir = adapter_base_model(r.adapter_dir, r.model_dir);
    check_target(r, result.model_dir);
    const AdapterSummary summary = summarize_adapter(r.adapter_dir);
    result.method = summary.method;
    mixes_streams = summary.mixes_streams;
  }

  const GgufModelCheck checked = gguf ? check_gguf_model(r, result.model_dir) : GgufModelCheck{};
  if (mixes_streams && gguf && !r.drop_gate)
    throw_bad_input(r.adapter_dir, result.method + " cannot be written as GGUF: it mixes the original and the tuned model per token, "
                                   "which llama.cpp does not compute. --drop-gate exports the tuned stream alone (its PEFT adapter merged, "
                                   "without the mix); --format hf keeps it for imsm");
  if (mixes_streams && !gguf) {
    write_dir_atomically(r.out_dir, [&](const fs::path& out) { copy_files(r.adapter_dir, out, [](const std::string&) { return true; }); });
    result.note = result.method + " cannot be merged into the base weights (its gate mixes the original and the tuned model per token): " +
                  r.out_dir + " holds the PEFT adapter and the gate files; load them with the base model: imsm generate --model " +
                  result.model_dir + " --adapter " + r.out_dir;
    return result;
  }
  if (gguf && r.adapter_only) {
    write_gguf_lora(r, result, mixes_streams, hooks);
    return result;
  }
  const auto loaded = load_merged(r, result, gguf, hooks);
  hooks.progress({"write", 2, 3, r.out_dir});
  if (gguf)
    write_gguf(r, checked, *loaded, result, mixes_streams, hooks);
  else
    write_hf(r, *loaded, result);
  hooks.progress({"write", 3, 3, r.out_dir});
  result.merged = true;
  return result;
}

}  // namespace imsm
