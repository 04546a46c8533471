// The siamese forward of IMSM over one copy of the base weights: the original
// stream M (no adapters, no autograd) and the tuned stream M' (adapters on),
// their last hidden states mixed by the gate, logits from the frozen LM head.
#pragma once
#include <torch/torch.h>

#include "imsm/gate.h"
#include "model/llama.h"

namespace imsm {

struct SiameseBatch {
  torch::Tensor input_ids;       // [B, T] int64, right-padded
  torch::Tensor attention_mask;  // [B, T] 1 = token; undefined: no padding
  torch::Tensor query_len;       // [B] int64: prompt tokens of each row (the gate's query)
  torch::Tensor h_M = {};        // [B, T, d] the original memory when already known (train/memory_cache.h); undefined: computed
};

struct SiameseOutput {
  torch::Tensor logits;  // [B, T, vocab] (undefined from siamese_memory)
  torch::Tensor h_N;     // [B, T, d] the memory the head reads: the mix (h_M' alone for variant none), in the model's dtype
  torch::Tensor gate;    // [B, T, d] g of the original memory (undefined without a gate; ½ for no-gate)
  torch::Tensor h_M;     // [B, T, d] original memory (undefined for variant none)
  torch::Tensor h_Mp;    // [B, T, d] tuned memory
};

// Below the model's first adapted layer (LlamaModel::first_adapted_layer) the
// two streams are one computation, without autograd.
// `gate` null: the PEFT method alone (variant none; the tuned stream only).
// `original_copy`, when given, runs the original stream on a separate copy of
// the base weights (the official code's layout; benchmarks compare it with the
// shared copy).
SiameseOutput siamese_forward(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                              const LlamaModel* original_copy = nullptr);
// The same without the LM head: h_N and the streams, no logits (a loss that
// applies the head itself, train/chunked_loss.h).
SiameseOutput siamese_memory(const LlamaModel& model, const ImsmGate* gate, const SiameseBatch& batch,
                             const LlamaModel* original_copy = nullptr);
// The original stream alone: h_M [B, T, d], no adapters, no autograd (in
// the model's autocast on CUDA with bf16/f16).
torch::Tensor original_memory(const LlamaModel& model, const SiameseBatch& batch);

}  // namespace imsm
