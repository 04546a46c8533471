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

// The base model: the request's, or the adapter's base_model_name_or_path.
std::string base_model_of(const ExportRequest& r, const PeftConfig& adapter) {
  const std::string where = (fs::path(r.adapter_dir) / "adapter_config.json").string();
  const std::string dir = r.model_dir.empty() ? adapter.base_model : r.model_dir;
  if (dir.empty()) throw_bad_input(where, "base_model_name_or_path is empty: name the base model with --model DIR");
  if (!fs::exists(fs::path(dir) / "config.json"))
    throw_bad_input(r.model_dir.empty() ? where : dir,
                    "the base model " + dir + " has no config.json" + (r.model_dir.empty() ? ": name the base model with --model DIR" : ""));
  return dir;
}

void copy_files(const fs::path& from, const fs::path& to, const std::function<bool(const std::string&)>& wanted) {
  for (const auto& entry : fs::directory_iterator(from))
    if (entry.is_regular_file() && wanted(entry.path().filename().string()))
      fs::copy_file(entry.path(), to / entry.path().filename(), fs::copy_options::overwrite_existing);
}

}  // namespace

ExportResult run_export(const ExportRequest& r, const Hooks& hooks) {
  const PeftConfig adapter = read_adapter_config((fs::path(r.adapter_dir) / "adapter_config.json").string());
  ExportResult result;
  result.out_dir = r.out_dir;
  result.model_dir = base_model_of(r, adapter);
  check_target(r, result.model_dir);
  const std::string variant = variant_of(r.adapter_dir);
  result.method = report::method_label(method_name(adapter.method), variant);

  if (variant != "none") {  // two streams mixed per token: no single set of weights computes that
    write_dir_atomically(r.out_dir, [&](const fs::path& out) { copy_files(r.adapter_dir, out, [](const std::string&) { return true; }); });
    result.note = result.method + " cannot be merged into the base weights (its gate mixes the original and the tuned model per token): " +
                  r.out_dir + " holds the PEFT adapter and the gate files; load them with the base model: imsm generate --model " +
                  result.model_dir + " --adapter " + r.out_dir;
    return result;
  }

  const std::string config_path = (fs::path(result.model_dir) / "config.json").string();
  const Precision checkpoint = checkpoint_precision(read_model_config(config_path));
  const Precision precision = r.dtype == Precision::Auto ? checkpoint : r.dtype;
  result.dtype = precisions().name(precision);
  hooks.progress({"load", 0, 3, result.model_dir});
  ModelSource source;
  source.model_dir = result.model_dir;
  source.adapter_dir = r.adapter_dir;
  source.dtype = precision;  // each merge computes in fp32 and stores in this dtype
  const auto loaded = load_model(source, TokenizerNeed::IfPresent);
  hooks.check_abort("export cancelled before merging; nothing written");
  hooks.progress({"merge", 1, 3, result.method});
  loaded->adapters->merge_and_unload();
  hooks.progress({"write", 2, 3, r.out_dir});
  write_dir_atomically(r.out_dir, [&](const fs::path& out) {
    save_llama(*loaded->model, out.string(), scalar_type(precision));
    copy_files(result.model_dir, out, [](const std::string& name) { return kTokenizerFiles.count(name) > 0; });
    json::write_file((out / "imsm_export.json").string(),
                     {{"merged_from", {{"base_model", fs::absolute(result.model_dir).string()}, {"adapter", fs::absolute(r.adapter_dir).string()}}},
                      {"method", result.method}, {"dtype", result.dtype}, {"imsm_version", IMSM_VERSION}});
  });
  hooks.progress({"write", 3, 3, r.out_dir});
  result.merged = true;
  result.note = result.method + " merged into " + result.model_dir + " (" + result.dtype + "): " + r.out_dir +
                " is a Hugging Face model folder (AutoModelForCausalLM.from_pretrained loads it)";
  return result;
}

}  // namespace imsm
