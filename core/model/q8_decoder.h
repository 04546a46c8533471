// One sequence decoded on q8_0 weights, as llama.cpp runs a q8_0 GGUF: every
// linear layer's weight (and the LM head) in 8-bit blocks (model/q8_0.h),
// each layer's input quantized the same way, the products summed in int32.
// The rest in fp32: RMSNorm, RoPE, attention over an fp32 KV cache, SwiGLU.
// Half the bytes of bf16 per token and no per-op dispatch: batch-1 decoding
// is bound by streaming the weights.
//
// Runs a model with no adapters attached (merge a LoRA first); one row, no
// padding. Keeps its own cache; positions come from generate().
#pragma once
#include <string>
#include <vector>

#include "model/generate.h"
#include "model/q8_0.h"
#include "model/rope.h"

namespace imsm {

class Q8DecodeStep : public DecodeStep {
 public:
  // BadInput when an adapter is attached. Quantizes every weight (in parallel).
  explicit Q8DecodeStep(const LlamaModel& model, Q8Kernel kernel = q8_best_kernel());

  // ids, positions: [1, T]; mask: undefined or all ones. -> logits [1, vocab] fp32.
  torch::Tensor next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) override;
  int64_t vocab_size() const override { return config_.vocab_size; }
  bool uses_cache() const override { return true; }

  Q8Kernel kernel() const { return kernel_; }
  int64_t weight_bytes() const;  // of every q8_0 matrix

 private:
  struct Layer {
    std::vector<float> input_layernorm, post_attention_layernorm;  // [d]
    std::vector<float> q_norm, k_norm;                             // [hd] (Qwen3) or empty
    Q8Matrix qkv;                                                  // [(H + 2 KV) hd, d]: q, k, v rows
    std::vector<float> qkv_bias;                                   // [(H + 2 KV) hd] or empty
    Q8Matrix o;                                                    // [d, H hd]
    std::vector<float> o_bias;                                     // [d] or empty
    Q8Matrix gate_up;                                              // [2 I, d]: gate, then up rows
    std::vector<float> gate_up_bias;                               // [2 I] or empty
    Q8Matrix down;                                                 // [d, I]
    std::vector<float> down_bias;                                  // [d] or empty
    std::vector<float> k_cache, v_cache;                           // [capacity, KV hd]
  };

  // x: [T, d], rows at positions past .. past + T - 1, through layer l in place.
  void layer_forward(Layer& layer, std::vector<float>& x, int64_t T, const float* cos, const float* sin);
  // y [T, W.rows] = x [T, W.cols] (quantized here) times Wᵀ, + bias when given.
  void linear(const Q8Matrix& w, const std::vector<float>& bias, const float* x, int64_t T, float* y);
  // The attention of T new queries over the cache: q [T, H hd] -> out [T, H hd].
  void attend(const Layer& layer, const float* q, int64_t T, float* out) const;

  ModelConfig config_;
  Q8Kernel kernel_;
  RotaryEmbedding rope_;
  torch::Tensor embed_tokens_;  // [vocab, d], the model's own (rows copied per token)
  std::vector<Layer> layers_;
  std::vector<float> norm_;     // [d]
  Q8Matrix lm_head_;            // [vocab, d]
  int64_t past_ = 0;            // positions in the cache
  Q8Input input_;               // scratch: a layer's input in q8_0
};

}  // namespace imsm
