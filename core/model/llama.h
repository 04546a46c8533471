// A Llama-family decoder (Llama, Mistral, Qwen2, Qwen3) in LibTorch, readable top to
// bottom: embed -> N x (RMSNorm, attention, residual, RMSNorm, SwiGLU, residual)
// -> final RMSNorm = the last hidden state ("memory" in IMSM) -> LM head.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "io/hf_config.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/mlp.h"
#include "model/rope.h"

namespace imsm {

struct DecoderLayer {
  torch::Tensor input_layernorm;           // [d]
  Attention self_attn;
  torch::Tensor post_attention_layernorm;  // [d]
  Mlp mlp;
};

struct ForwardInput {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor positions;       // [B, T] int64; undefined: past .. past + T - 1 for every row
  torch::Tensor attention_mask;  // [B, past + T], 1 = token, 0 = padding; undefined: no padding
  KVCache* cache = nullptr;      // null: no cache (the whole sequence each call)
  AdapterRows adapter_rows;      // which rows run through PEFT adapters
  // Set: the residual stream entering layer `from_layer` [B, T, d] (lower_layers), computed once for
  // two streams that differ only above it; the forward starts there. Undefined: from the embedding.
  torch::Tensor lower_hidden = {};
  int64_t from_layer = 0;
};

class LlamaModel {
 public:
  LlamaModel(ModelConfig config, std::map<std::string, torch::Tensor> weights);

  // The last hidden state after the final norm: [B, T, d]. Advances the cache.
  torch::Tensor forward_hidden(const ForwardInput& input) const;
  // The residual stream entering decoder layer k (layers 0 .. k-1, no final
  // norm): [B, T, d]. Writes those layers' keys and values to the cache
  // without advancing it (the forward from layer k does).
  torch::Tensor lower_layers(const ForwardInput& input, int64_t k) const;
  // The lowest decoder layer with an adapter attached (num_hidden_layers when
  // none): below it every stream computes the same.
  int64_t first_adapted_layer() const;
  // hidden: [..., d] -> logits [..., vocab] (the LM head alone).
  torch::Tensor lm_head(const torch::Tensor& hidden) const;
  const torch::Tensor& lm_head_weight() const;  // [vocab, d]
  // Both at once: logits [B, T, vocab].
  torch::Tensor forward(const ForwardInput& input) const { return lm_head(forward_hidden(input)); }

  KVCache make_cache() const { return KVCache(config_.num_hidden_layers); }
  // Training without a cache keeps one decoder layer's activations at a time
  // and recomputes each in the backward (model/checkpoint.h).
  void set_gradient_checkpointing(bool on) { checkpoint_layers_ = on; }
  bool gradient_checkpointing() const { return checkpoint_layers_; }
  const ModelConfig& config() const { return config_; }
  torch::Device device() const { return embed_tokens_.device(); }
  torch::ScalarType dtype() const { return embed_tokens_.scalar_type(); }

  // Every linear layer by Hugging Face module name ("model.layers.0.self_attn.q_proj"),
  // for adapters to wrap.
  std::map<std::string, Linear*> linears();
  // All weights by Hugging Face tensor name (for saving).
  std::vector<std::pair<std::string, torch::Tensor>> named_weights() const;

 private:
  // Additive mask [B, 1, T, S]: 0 where query i may see key j (j <= past + i and
  // key j is not padding), the dtype's lowest value elsewhere. Undefined when
  // nothing needs masking (one new token, no padding).
  torch::Tensor build_mask(const ForwardInput& input, int64_t past, int64_t T) const;
  // The residual stream after layers input.from_layer (0 without lower_hidden) .. end - 1: [B, T, d].
  torch::Tensor run_layers(const ForwardInput& input, int64_t end) const;
  // Decoder layer l: x [B, T, d] -> [B, T, d].
  torch::Tensor layer_forward(size_t l, const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, const torch::Tensor& mask,
                              KVCache* cache, const AdapterRows& rows) const;

  ModelConfig config_;
  torch::Tensor embed_tokens_;  // [vocab, d]
  std::vector<DecoderLayer> layers_;
  torch::Tensor norm_;          // [d]
  Linear lm_head_;              // weight [vocab, d] (tied: the embedding)
  RotaryEmbedding rope_;
  bool checkpoint_layers_ = false;
};

}  // namespace imsm
