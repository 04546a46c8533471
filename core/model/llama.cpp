#include "model/llama.h"

#include "model/checkpoint.h"
#include "model/rmsnorm.h"
#include "util/error.h"

namespace imsm {

namespace {
torch::Tensor take(std::map<std::string, torch::Tensor>& w, const std::string& name) {
  const auto it = w.find(name);
  if (it == w.end()) throw_internal("LlamaModel: weight " + name + " was not loaded");
  return it->second;
}
torch::Tensor take_optional(std::map<std::string, torch::Tensor>& w, const std::string& name) {
  const auto it = w.find(name);
  return it == w.end() ? torch::Tensor() : it->second;
}
Linear make_linear(std::map<std::string, torch::Tensor>& w, const std::string& name) {
  return Linear(name, take(w, name + ".weight"), take_optional(w, name + ".bias"));
}
}  // namespace

LlamaModel::LlamaModel(ModelConfig config, std::map<std::string, torch::Tensor> w)
    : config_(std::move(config)), rope_(config_) {
  embed_tokens_ = take(w, "model.embed_tokens.weight");
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    DecoderLayer layer;
    layer.input_layernorm = take(w, p + "input_layernorm.weight");
    layer.self_attn.q_proj = make_linear(w, p + "self_attn.q_proj");
    layer.self_attn.k_proj = make_linear(w, p + "self_attn.k_proj");
    layer.self_attn.v_proj = make_linear(w, p + "self_attn.v_proj");
    layer.self_attn.o_proj = make_linear(w, p + "self_attn.o_proj");
    layer.self_attn.num_heads = config_.num_attention_heads;
    layer.self_attn.num_kv_heads = config_.num_key_value_heads;
    layer.self_attn.head_dim = config_.head_dim;
    layer.self_attn.q_norm = take_optional(w, p + "self_attn.q_norm.weight");
    layer.self_attn.k_norm = take_optional(w, p + "self_attn.k_norm.weight");
    layer.self_attn.rms_norm_eps = config_.rms_norm_eps;
    layer.post_attention_layernorm = take(w, p + "post_attention_layernorm.weight");
    layer.mlp.gate_proj = make_linear(w, p + "mlp.gate_proj");
    layer.mlp.up_proj = make_linear(w, p + "mlp.up_proj");
    layer.mlp.down_proj = make_linear(w, p + "mlp.down_proj");
    layers_.push_back(std::move(layer));
  }
  norm_ = take(w, "model.norm.weight");
  lm_head_ = config_.tie_word_embeddings ? Linear("lm_head", embed_tokens_, torch::Tensor())
                                         : make_linear(w, "lm_head");
}

torch::Tensor LlamaModel::build_mask(const ForwardInput& in, int64_t past, int64_t T) const {
  const bool padded = in.attention_mask.defined();
  if (!padded && T == 1) return torch::Tensor();
  const int64_t B = in.input_ids.size(0), S = past + T;
  const auto opts = torch::TensorOptions().device(device());
  const torch::Tensor q_pos = torch::arange(past, S, opts.dtype(torch::kInt64)).view({T, 1});  // [T, 1]
  const torch::Tensor k_pos = torch::arange(0, S, opts.dtype(torch::kInt64)).view({1, S});     // [1, S]
  torch::Tensor allowed = (k_pos <= q_pos).view({1, 1, T, S});                                 // [1, 1, T, S]
  if (padded) allowed = allowed & in.attention_mask.to(device()).to(torch::kBool).view({B, 1, 1, S});  // [B, 1, T, S]
  const double lowest = dtype() == torch::kFloat32 ? std::numeric_limits<float>::lowest()
                        : dtype() == torch::kFloat16 ? -65504.0 : -3.38e38;
  return torch::zeros(allowed.sizes(), opts.dtype(dtype())).masked_fill(allowed.logical_not(), lowest);  // [B|1, 1, T, S]
}

torch::Tensor LlamaModel::forward_hidden(const ForwardInput& in) const {
  const torch::Tensor hidden = run_layers(in, config_.num_hidden_layers);  // [B, T, d]
  if (in.cache) in.cache->advance(in.input_ids.size(1));
  return rms_norm(hidden, norm_, config_.rms_norm_eps);  // [B, T, d]: the memory IMSM mixes
}

torch::Tensor LlamaModel::lower_layers(const ForwardInput& in, int64_t k) const {
  ForwardInput lower = in;  // from the embedding
  lower.lower_hidden = torch::Tensor();
  lower.from_layer = 0;
  return run_layers(lower, k);  // [B, T, d]
}

int64_t LlamaModel::first_adapted_layer() const {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const DecoderLayer& layer = layers_[l];
    for (const Linear* lin : {&layer.self_attn.q_proj, &layer.self_attn.k_proj, &layer.self_attn.v_proj, &layer.self_attn.o_proj,
                              &layer.mlp.gate_proj, &layer.mlp.up_proj, &layer.mlp.down_proj})
      if (lin->adapter) return static_cast<int64_t>(l);
  }
  return config_.num_hidden_layers;
}

torch::Tensor LlamaModel::run_layers(const ForwardInput& in, int64_t end) const {
  const int64_t B = in.input_ids.size(0), T = in.input_ids.size(1);
  const int64_t begin = in.lower_hidden.defined() ? in.from_layer : 0;
  if (begin < 0 || begin > end || end > config_.num_hidden_layers || (in.from_layer != 0 && !in.lower_hidden.defined()))
    throw_internal("LlamaModel: layers " + std::to_string(in.from_layer) + " .. " + std::to_string(end) + " asked of a model of " +
                   std::to_string(config_.num_hidden_layers) + (in.lower_hidden.defined() ? "" : " without the stream entering them"));
  const int64_t past = in.cache ? in.cache->length() : 0;
  const torch::Tensor positions = in.positions.defined()
      ? in.positions.to(device())
      : torch::arange(past, past + T, torch::TensorOptions().dtype(torch::kInt64).device(device())).expand({B, T});  // [B, T]
  const auto [cos, sin] = rope_.cos_sin(positions, dtype());   // [B, T, hd] each
  const torch::Tensor mask = build_mask(in, past, T);          // [B|1, 1, T, past + T] or undefined

  torch::Tensor hidden = in.lower_hidden.defined() ? in.lower_hidden
                                                   : torch::embedding(embed_tokens_, in.input_ids.to(device()));  // [B, T, d]
  for (int64_t i = begin; i < end; ++i) {
    const auto l = static_cast<size_t>(i);
    if (checkpoint_layers_ && in.cache == nullptr) {
      const AdapterRows rows = in.adapter_rows;  // the rerun in the backward outlives `in`: copies
      hidden = checkpointed([this, l, cos, sin, mask, rows](const torch::Tensor& x) { return layer_forward(l, x, cos, sin, mask, nullptr, rows); },
                            hidden);  // [B, T, d]
    } else {
      hidden = layer_forward(l, hidden, cos, sin, mask, in.cache, in.adapter_rows);  // [B, T, d]
    }
  }
  return hidden;  // [B, T, d], before the final norm
}

torch::Tensor LlamaModel::layer_forward(size_t l, const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                        const torch::Tensor& mask, KVCache* cache, const AdapterRows& rows) const {
  const DecoderLayer& layer = layers_[l];
  torch::Tensor h = rms_norm(x, layer.input_layernorm, config_.rms_norm_eps);                                   // [B, T, d]
  const torch::Tensor y = x + layer.self_attn.forward(h, cos, sin, mask, cache, static_cast<int64_t>(l), rows);  // [B, T, d]
  h = rms_norm(y, layer.post_attention_layernorm, config_.rms_norm_eps);                                         // [B, T, d]
  return y + layer.mlp.forward(h, rows);                                                                         // [B, T, d]
}

const torch::Tensor& LlamaModel::lm_head_weight() const { return lm_head_.weight; }

torch::Tensor LlamaModel::lm_head(const torch::Tensor& hidden) const {
  return lm_head_.base_forward(hidden);  // [..., vocab]
}

std::map<std::string, Linear*> LlamaModel::linears() {
  std::map<std::string, Linear*> out;
  for (auto& layer : layers_) {
    for (Linear* l : {&layer.self_attn.q_proj, &layer.self_attn.k_proj, &layer.self_attn.v_proj, &layer.self_attn.o_proj,
                      &layer.mlp.gate_proj, &layer.mlp.up_proj, &layer.mlp.down_proj})
      out[l->name] = l;
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> LlamaModel::named_weights() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("model.embed_tokens.weight", embed_tokens_);
  auto add_linear = [&](const Linear& l) {
    out.emplace_back(l.name + ".weight", l.weight);
    if (l.bias.defined()) out.emplace_back(l.name + ".bias", l.bias);
  };
  for (size_t l = 0; l < layers_.size(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const DecoderLayer& layer = layers_[l];
    out.emplace_back(p + "input_layernorm.weight", layer.input_layernorm);
    for (const Linear* lin : {&layer.self_attn.q_proj, &layer.self_attn.k_proj, &layer.self_attn.v_proj, &layer.self_attn.o_proj})
      add_linear(*lin);
    if (layer.self_attn.q_norm.defined()) out.emplace_back(p + "self_attn.q_norm.weight", layer.self_attn.q_norm);
    if (layer.self_attn.k_norm.defined()) out.emplace_back(p + "self_attn.k_norm.weight", layer.self_attn.k_norm);
    out.emplace_back(p + "post_attention_layernorm.weight", layer.post_attention_layernorm);
    for (const Linear* lin : {&layer.mlp.gate_proj, &layer.mlp.up_proj, &layer.mlp.down_proj}) add_linear(*lin);
  }
  out.emplace_back("model.norm.weight", norm_);
  if (!config_.tie_word_embeddings) add_linear(lm_head_);
  return out;
}

}  // namespace imsm
