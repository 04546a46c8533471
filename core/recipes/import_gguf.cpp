#include "recipes/import_gguf.h"

#include <chrono>
#include <cstring>
#include <filesystem>

#include "gguf/gguf_file.h"
#include "gguf/gguf_model.h"
#include "gguf/gguf_tokenizer.h"
#include "io/atomic_dir.h"
#include "io/json_file.h"
#include "io/safetensors_writer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

// float -> bfloat16, to nearest, ties to even (torch's .bfloat16()); NaN stays NaN.
uint16_t to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

nlohmann::json generation_config(const ModelConfig& c) {
  nlohmann::json j = {{"_from_model_config", true}};
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  if (c.pad_token_id >= 0) j["pad_token_id"] = c.pad_token_id;
  return j;
}

// Every weight dequantized (and in bf16, rounded), with progress and the one
// cancel rule between tensors.
struct Weights {
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<uint16_t>> bf16;
  std::vector<TensorToWrite> tensors;
};

Weights read_weights(const GgufFile& file, const GgufModel& model, bool bf16, const Hooks& hooks) {
  Weights w;
  const auto n = static_cast<int64_t>(model.weights.size());
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < n; ++i) {
    hooks.check_abort("import-gguf cancelled: nothing was written");
    const GgufWeight& g = model.weights[static_cast<size_t>(i)];
    std::vector<float> values = read_gguf_weight(file, g);
    TensorToWrite t{g.name, bf16 ? DType::BF16 : DType::F32, g.shape, nullptr};
    if (bf16) {
      std::vector<uint16_t> half(values.size());
      for (size_t k = 0; k < values.size(); ++k) half[k] = to_bf16(values[k]);
      w.bf16.push_back(std::move(half));
      t.data = w.bf16.back().data();
    } else {
      w.f32.push_back(std::move(values));
      t.data = w.f32.back().data();
    }
    w.tensors.push_back(std::move(t));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    hooks.progress({"dequantize", i + 1, n, g.source->name + " (" + g.source->type_name + ")", elapsed / double(i + 1) * double(n - i - 1)});
  }
  return w;
}

}  // namespace

ImportGgufResult run_import_gguf(const ImportGgufRequest& r, const Hooks& hooks) {
  const bool bf16 = r.dtype == Precision::BF16;
  if (!bf16 && r.dtype != Precision::F32)
    throw_bad_input("--dtype", std::string("is \"") + precisions().name(r.dtype) + "\": choose f32 or bf16");
  if (r.gguf_path.empty()) throw_bad_input("FILE.gguf", "is empty: name the GGUF file to import");
  check_output_dir(r.out_dir, r.force, {r.gguf_path}, "--out", "import-gguf");
  hooks.progress({"read", 0, 0, r.gguf_path});
  const auto file = GgufFile::open(r.gguf_path);
  GgufModel model = read_gguf_model(*file);
  const GgufTokenizer tokenizer = read_gguf_tokenizer(*file, model.config.max_position_embeddings);
  model.config.torch_dtype = bf16 ? "bfloat16" : "float32";

  ImportGgufResult result;
  result.out_dir = r.out_dir;
  result.name = model.name;
  result.architecture = model.gguf_architecture;
  result.tokenizer = tokenizer.model;
  result.dtype = precisions().name(r.dtype);
  result.chat_template = tokenizer.has_chat_template;
  for (const auto& g : model.weights) {
    result.parameters += g.source->numel;
    ++result.source_types[g.source->type_name];
  }

  Weights weights = read_weights(*file, model, bf16, hooks);
  hooks.progress({"write", 0, 1, r.out_dir});
  write_dir_atomically(r.out_dir, [&](const std::string& tmp) {
    const fs::path out(tmp);
    json::write_file((out / "config.json").string(), model.config.to_json());
    json::write_file((out / "generation_config.json").string(), generation_config(model.config));
    json::write_file((out / "tokenizer.json").string(), tokenizer.tokenizer);
    json::write_file((out / "tokenizer_config.json").string(), tokenizer.config);
    write_safetensors((out / "model.safetensors").string(), weights.tensors,
                      {{"format", "pt"}, {"source", "imsm import-gguf " + fs::path(r.gguf_path).filename().string()}});
    hooks.check_abort("import-gguf cancelled: nothing was written");
  });
  hooks.progress({"write", 1, 1, r.out_dir});

  std::string types;
  for (const auto& [type, count] : result.source_types) types += (types.empty() ? "" : ", ") + std::to_string(count) + " " + type;
  result.note = (model.name.empty() ? std::string("the model") : model.name) + " (" + model.gguf_architecture + ", " +
                std::to_string(result.parameters) + " parameters; tensors " + types + ") written to " + r.out_dir + " in " +
                result.dtype + (tokenizer.has_chat_template ? ", with its chat template" : "") +
                ". Use it as any model folder: imsm generate --model " + r.out_dir + " --prompt \"...\"";
  return result;
}

}  // namespace imsm
