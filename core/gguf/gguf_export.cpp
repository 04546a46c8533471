#include "gguf/gguf_export.h"

#include "gguf/gguf_model.h"
#include "gguf/gguf_rope.h"
#include "gguf/gguf_write.h"
#include "model/layout.h"
#include "util/error.h"

namespace imsm {
namespace {

const char* kRopeFreqs = "rope_freqs.weight";

void write_hyperparameters(GgufWriter& w, const ModelConfig& c, const std::string& arch, const std::string& where) {
  const std::string a = arch + ".";
  w.set_u32(a + "block_count", static_cast<uint32_t>(c.num_hidden_layers));
  w.set_u32(a + "context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
  w.set_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  if (arch == "llama") {  // what convert_hf_to_gguf.py writes for llama only (qwen2/qwen3 read them from elsewhere)
    w.set_u32(a + "vocab_size", static_cast<uint32_t>(c.vocab_size));
    w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  }
  const std::string& scaling = c.rope_scaling.type;
  if (scaling == "linear") {
    w.set_text(a + "rope.scaling.type", "linear");
    w.set_f32(a + "rope.scaling.factor", static_cast<float>(c.rope_scaling.factor));
  } else if (scaling != "none" && scaling != "llama3") {
    throw_bad_input(where, "rope_scaling type \"" + scaling + "\" has no GGUF form llama.cpp reads; the export writes none, linear and llama3");
  }
}

struct Planned {
  std::string hf_name;           // "" for rope_freqs.weight
  std::vector<int64_t> shape;
  int64_t permute = 0;           // > 0: permute the rows over this many heads
};

}  // namespace

std::string gguf_architecture_of(const ModelConfig& c, const std::string& config_path) {
  const std::string arch = gguf_architecture(c.model_type);
  if (arch.empty())
    throw_bad_input(config_path, "model_type \"" + c.model_type + "\" has no llama.cpp architecture the export knows; it writes llama, mistral, qwen2 and qwen3");
  return arch;
}

GgufExportResult write_gguf_model(const std::string& path, const ModelConfig& c, const std::string& config_path, const GgufVocab& vocab,
                                  const std::string& name, const GgufQuant& quant, const WeightValues& weights, const Hooks& hooks,
                                  const GgufImportance& importance) {
  GgufExportResult result;
  result.architecture = gguf_architecture_of(c, config_path);
  GgufWriter w;
  w.set_text("general.architecture", result.architecture);
  w.set_text("general.type", "model");
  w.set_text("general.name", name);
  w.set_u32("general.file_type", static_cast<uint32_t>(quant.file_type));
  w.set_u32("general.quantization_version", 2);  // ggml's GGML_QNT_VERSION
  write_hyperparameters(w, c, result.architecture, config_path);
  write_gguf_vocab(w, vocab);
  if (!importance.means.empty()) {
    w.set_text("quantize.imatrix.file", importance.file);
    w.set_text("quantize.imatrix.dataset", importance.dataset);
    w.set_i32("quantize.imatrix.entries_count", static_cast<int32_t>(importance.means.size()));
    w.set_i32("quantize.imatrix.chunks_count", static_cast<int32_t>(importance.rows));
  }

  std::vector<Planned> plan;
  auto add = [&](const std::string& gguf_name, Planned p) {
    const int type = gguf_tensor_type(quant, gguf_name, p.shape, c.num_hidden_layers, c.tie_word_embeddings);
    w.add_tensor(gguf_name, p.shape, type);
    ++result.types[ggml_type_label(type)];
    plan.push_back(std::move(p));
  };
  if (c.rope_scaling.type == "llama3") add(kRopeFreqs, {"", {c.head_dim / 2}, 0});
  for (const auto& e : expected_tensors(c)) add(gguf_tensor_name(e.name), {e.name, e.shape, llama_cpp_permuted_heads(c, e.name)});
  result.bytes = w.write(path, [&](size_t i) {
    const Planned& p = plan[i];
    if (p.hf_name.empty()) {
      const std::vector<double> d = llama3_frequency_divisors(c.rope_scaling, c.head_dim, c.rope_theta);
      return std::vector<float>(d.begin(), d.end());
    }
    std::vector<float> values = weights(p.hf_name);
    return p.permute > 0 ? reorder_head_rows(values, p.permute, p.shape[0], HeadOrder::LlamaCpp) : values;
  }, hooks, [&](size_t i) -> const std::vector<float>* {  // per input column: the Q/K row permutation leaves it as it is
    const auto it = importance.means.find(plan[i].hf_name);
    return it == importance.means.end() ? nullptr : &it->second;
  });
  return result;
}

void write_gguf_imatrix(const std::string& path, const std::map<std::string, std::vector<float>>& sums, int64_t tokens,
                        const std::string& dataset, int64_t rows, int64_t row_tokens) {
  GgufWriter w;
  w.set_text("general.type", "imatrix");
  w.set_texts("imatrix.datasets", {dataset});
  w.set_u32("imatrix.chunk_count", static_cast<uint32_t>(rows));
  w.set_u32("imatrix.chunk_size", static_cast<uint32_t>(row_tokens));
  std::vector<const std::vector<float>*> values;
  for (const auto& [hf, s] : sums) {
    w.add_tensor(gguf_tensor_name(hf) + ".in_sum2", {1, static_cast<int64_t>(s.size())}, 0 /* GGML_TYPE_F32 */);
    w.add_tensor(gguf_tensor_name(hf) + ".counts", {1, 1}, 0);
    values.push_back(&s);
  }
  w.write(path, [&](size_t i) { return i % 2 == 0 ? *values[i / 2] : std::vector<float>{static_cast<float>(tokens)}; }, Hooks{});
}

}  // namespace imsm
