#include "model/layout.h"

#include <set>

#include "util/error.h"

namespace imsm {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const int64_t d = c.hidden_size, q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  const int64_t ff = c.intermediate_size;
  std::vector<ExpectedTensor> out;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, d}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {d}});
    out.push_back({p + "self_attn.q_proj.weight", {q, d}});
    out.push_back({p + "self_attn.k_proj.weight", {kv, d}});
    out.push_back({p + "self_attn.v_proj.weight", {kv, d}});
    out.push_back({p + "self_attn.o_proj.weight", {d, q}});
    if (c.attention_bias) {
      out.push_back({p + "self_attn.q_proj.bias", {q}});
      out.push_back({p + "self_attn.k_proj.bias", {kv}});
      out.push_back({p + "self_attn.v_proj.bias", {kv}});
    }
    if (c.o_proj_bias) out.push_back({p + "self_attn.o_proj.bias", {d}});
    if (c.qk_norm) {
      out.push_back({p + "self_attn.q_norm.weight", {c.head_dim}});
      out.push_back({p + "self_attn.k_norm.weight", {c.head_dim}});
    }
    out.push_back({p + "post_attention_layernorm.weight", {d}});
    out.push_back({p + "mlp.gate_proj.weight", {ff, d}});
    out.push_back({p + "mlp.up_proj.weight", {ff, d}});
    out.push_back({p + "mlp.down_proj.weight", {d, ff}});
    if (c.mlp_bias) {
      out.push_back({p + "mlp.gate_proj.bias", {ff}});
      out.push_back({p + "mlp.up_proj.bias", {ff}});
      out.push_back({p + "mlp.down_proj.bias", {d}});
    }
  }
  out.push_back({"model.norm.weight", {d}});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, d}});
  return out;
}

namespace {
bool ignorable(const std::string& name) {
  // Buffers some exporters keep; they carry no learned weights.
  return name.size() > 19 && name.compare(name.size() - 19, 19, "rotary_emb.inv_freq") == 0;
}
}  // namespace

void check_layout(const ModelConfig& c, const CheckpointWeights& w, const std::string& config_path) {
  std::set<std::string> expected_names;
  for (const auto& e : expected_tensors(c)) {
    expected_names.insert(e.name);
    const TensorView* t = w.find(e.name);
    if (t == nullptr) {
      const std::string where = w.shards().size() == 1 ? w.shards()[0].path() : "checkpoint";
      throw_bad_input(where, "missing tensor \"" + e.name + "\" (required by " + config_path + ")");
    }
    const std::string where = w.file_of(e.name) + ": tensor \"" + e.name + "\"";
    if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16)
      throw_bad_input(where, std::string("dtype ") + dtype_name(t->dtype) + " is not supported (F32, F16, BF16)");
    if (t->shape != e.shape)
      throw_bad_input(where, "shape " + shape_text(t->shape) + " does not match " + config_path + ", which implies " + shape_text(e.shape));
  }
  for (const auto& name : w.names()) {
    if (expected_names.count(name) || ignorable(name)) continue;
    if (name == "lm_head.weight" && c.tie_word_embeddings) continue;  // tied: an exported copy is harmless
    throw_bad_input(w.file_of(name) + ": tensor \"" + name + "\"", "unexpected tensor for " + c.architecture +
                                                                      " with this config (wrong model or config.json?)");
  }
}

}  // namespace imsm
