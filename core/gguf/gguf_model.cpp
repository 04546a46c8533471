#include "gguf/gguf_model.h"

#include <cstring>
#include <map>
#include <set>

#include "gguf/gguf_rope.h"
#include "model/layout.h"
#include "util/error.h"

namespace imsm {
namespace {

const char* kArchitectures = "llama, qwen2, qwen3";

// general.architecture -> Hugging Face's class ("" when not supported).
std::string hf_architecture(const std::string& arch) {
  if (arch == "llama") return "LlamaForCausalLM";  // Mistral's convert_hf_to_gguf.py writes "llama" too
  if (arch == "qwen2") return "Qwen2ForCausalLM";
  if (arch == "qwen3") return "Qwen3ForCausalLM";
  return "";
}

// Hugging Face's name of a layer tensor -> llama.cpp's (gguf-py's tensor_mapping.py).
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},       {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},       {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},       {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},  {"self_attn.o_proj.bias", "attn_output.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},  {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},        {"mlp.gate_proj.bias", "ffn_gate.bias"},
      {"mlp.up_proj.weight", "ffn_up.weight"},            {"mlp.up_proj.bias", "ffn_up.bias"},
      {"mlp.down_proj.weight", "ffn_down.weight"},        {"mlp.down_proj.bias", "ffn_down.bias"},
  };
  return m;
}

}  // namespace

std::string gguf_tensor_name(const std::string& hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string prefix = "model.layers.";
  const size_t dot = hf.find('.', prefix.size());
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  return "blk." + layer + "." + layer_names().at(hf.substr(dot + 1));
}

namespace {

const char* kRopeFreqs = "rope_freqs.weight";

int64_t required(const GgufFile& f, const std::string& key) {
  const auto v = f.integer(key);
  if (!v) throw_bad_input(f.path(), "has no metadata key " + key + ", which a model of its architecture needs");
  if (*v <= 0) throw_bad_input(f.path(), "metadata key " + key + " must be positive, got " + std::to_string(*v));
  return *v;
}

// config.json's settings from the metadata keys "<arch>.*" and the token ids.
ModelConfig config_of(const GgufFile& f, const std::string& arch) {
  const std::string a = arch + ".";
  ModelConfig c;
  c.architecture = hf_architecture(arch);
  c.model_type = arch;
  c.hidden_size = required(f, a + "embedding_length");
  c.num_hidden_layers = required(f, a + "block_count");
  // Each layer holds at least 9 tensors (2 norms, q, k, v, o, gate, up, down): a count the tensors cannot
  // back is refused before the expected names are listed (a huge one would take all memory; fuzz_gguf's finding).
  const auto tensors = static_cast<int64_t>(f.tensors().size());
  if (c.num_hidden_layers > tensors / 9)
    throw_bad_input(f.path(), "metadata key " + a + "block_count says " + std::to_string(c.num_hidden_layers) + " layers, but the file holds " +
                                  std::to_string(tensors) + " tensors (a layer has at least 9)");
  c.intermediate_size = required(f, a + "feed_forward_length");
  c.num_attention_heads = required(f, a + "attention.head_count");
  c.num_key_value_heads = f.integer(a + "attention.head_count_kv").value_or(c.num_attention_heads);
  c.head_dim = f.integer(a + "attention.key_length").value_or(c.hidden_size / c.num_attention_heads);
  const int64_t rotary = f.integer(a + "rope.dimension_count").value_or(c.head_dim);
  if (rotary != c.head_dim)
    throw_bad_input(f.path(), "rotates " + std::to_string(rotary) + " of " + std::to_string(c.head_dim) +
                                  " dimensions per head (" + a + "rope.dimension_count): partial rotary embeddings are not supported");
  c.max_position_embeddings = f.integer(a + "context_length").value_or(2048);
  c.rms_norm_eps = f.number(a + "attention.layer_norm_rms_epsilon").value_or(1e-6);
  c.rope_theta = f.number(a + "rope.freq_base").value_or(10000.0);
  const std::string scaling = f.text(a + "rope.scaling.type").value_or("none");
  if (scaling == "linear") {
    c.rope_scaling.type = "linear";
    c.rope_scaling.factor = f.number(a + "rope.scaling.factor").value_or(1.0);
  } else if (scaling != "none") {
    throw_bad_input(f.path(), "uses RoPE scaling \"" + scaling + "\" (" + a + "rope.scaling.type): supported are none and linear");
  }
  if (const GgufTensorInfo* freqs = f.find(kRopeFreqs)) {  // Llama 3.x: rope_scaling as a tensor of divisors
    if (c.rope_scaling.type != "none")
      throw_bad_input(f.path(), "carries both " + a + "rope.scaling.type and " + kRopeFreqs + ": the import cannot tell which applies");
    std::vector<float> divisors(static_cast<size_t>(freqs->numel));
    f.dequantize(*freqs, divisors.data());
    c.rope_scaling = llama3_scaling_from_divisors(divisors, c.head_dim, c.rope_theta, f.path());
  }
  const GgufTensorInfo* embed = f.find("token_embd.weight");
  if (embed == nullptr || embed->shape.size() != 2) throw_bad_input(f.path(), "has no 2-D tensor token_embd.weight");
  c.vocab_size = embed->shape[0];
  c.tie_word_embeddings = f.find("output.weight") == nullptr;
  c.attention_bias = arch == "qwen2" || f.find("blk.0.attn_q.bias") != nullptr;
  c.o_proj_bias = arch != "qwen2" && f.find("blk.0.attn_output.bias") != nullptr;
  c.mlp_bias = f.find("blk.0.ffn_up.bias") != nullptr;
  if (const auto bos = f.integer("tokenizer.ggml.bos_token_id")) c.bos_token_id = *bos;
  if (const auto eos = f.integer("tokenizer.ggml.eos_token_id")) c.eos_token_ids = {*eos};
  if (const auto pad = f.integer("tokenizer.ggml.padding_token_id")) c.pad_token_id = *pad;
  // The same checks as any config.json (heads divide, head_dim even, ...).
  return parse_model_config(c.to_json(), f.path());
}

}  // namespace

GgufModel read_gguf_model(const GgufFile& f) {
  GgufModel m;
  const auto arch = f.text("general.architecture");
  if (!arch) throw_bad_input(f.path(), "has no metadata key general.architecture: not a model file");
  if (hf_architecture(*arch).empty())
    throw_bad_input(f.path(), "holds a model of architecture \"" + *arch + "\", which the import does not support; supported: " +
                                  kArchitectures);
  m.gguf_architecture = *arch;
  m.name = f.text("general.name").value_or("");
  m.config = config_of(f, *arch);

  std::set<std::string> used = {kRopeFreqs};  // read into config.rope_scaling
  for (const auto& e : expected_tensors(m.config)) {
    const std::string gguf_name = gguf_tensor_name(e.name);
    const GgufTensorInfo* t = f.find(gguf_name);
    if (t == nullptr) throw_bad_input(f.path(), "has no tensor " + gguf_name + " (" + e.name + "), which its metadata implies");
    if (t->shape != e.shape)
      throw_bad_input(f.path(), "tensor " + gguf_name + " has shape " + shape_text(t->shape) + ", its metadata implies " +
                                    shape_text(e.shape));
    GgufWeight w{e.name, t, e.shape, llama_cpp_permuted_heads(m.config, e.name)};
    used.insert(gguf_name);
    m.weights.push_back(std::move(w));
  }
  for (const auto& t : f.tensors())
    if (!used.count(t.name))
      throw_bad_input(f.path(), "holds tensor " + t.name + ", which a " + *arch + " model of its metadata does not have");
  return m;
}

std::string gguf_architecture(const std::string& model_type) {
  if (model_type == "llama" || model_type == "mistral") return "llama";
  if (model_type == "qwen2" || model_type == "qwen3") return model_type;
  return "";
}

int64_t llama_cpp_permuted_heads(const ModelConfig& c, const std::string& hf_name) {
  if (gguf_architecture(c.model_type) != "llama") return 0;
  if (hf_name.find("self_attn.q_proj.") != std::string::npos) return c.num_attention_heads;
  if (hf_name.find("self_attn.k_proj.") != std::string::npos) return c.num_key_value_heads;
  return 0;
}

std::vector<float> reorder_head_rows(const std::vector<float>& values, int64_t heads, int64_t rows, HeadOrder to) {
  const int64_t cols = static_cast<int64_t>(values.size()) / rows, d = rows / heads, half = d / 2;
  const auto bytes = static_cast<size_t>(cols) * sizeof(float);
  std::vector<float> out(values.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t hf = h * d + j * half + i, llama_cpp = h * d + 2 * i + j;  // the same row in each order
        const bool to_llama_cpp = to == HeadOrder::LlamaCpp;
        std::memcpy(&out[static_cast<size_t>((to_llama_cpp ? llama_cpp : hf) * cols)],
                    &values[static_cast<size_t>((to_llama_cpp ? hf : llama_cpp) * cols)], bytes);
      }
  return out;
}

std::vector<float> read_gguf_weight(const GgufFile& f, const GgufWeight& w) {
  std::vector<float> raw(static_cast<size_t>(w.source->numel));
  f.dequantize(*w.source, raw.data());  // [rows, cols] in llama.cpp's row order
  return w.unpermute_heads > 0 ? reorder_head_rows(raw, w.unpermute_heads, w.shape[0], HeadOrder::HuggingFace) : raw;
}

}  // namespace imsm
