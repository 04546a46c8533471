// How much memory a training run needs, before it starts (torch-free
// arithmetic): the frozen weights, the adapters and the IMSM gate with their
// gradients and optimizer state, the activations the backward pass keeps (all
// decoder layers, or with activation checkpointing each layer's input and one
// layer at a time), the logits and their gradient (the whole batch, or one
// chunk of positions), and the KV caches of evaluation during training.
//
// The per-token activation counts are what this engine's layer keeps for its
// backward (model/llama.cpp, peft/adapter.cpp, imsm/gate.cpp), checked
// against measured peaks by tests/bench/bench_train (docs/PERFORMANCE.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "imsm/gate_config.h"
#include "io/hf_config.h"
#include "peft/peft_config.h"
#include "train/train_settings.h"
#include "util/table.h"  // format_bytes

namespace imsm {

// What decides a run's memory.
struct MemoryPlan {
  ModelConfig model;
  PeftConfig peft;
  bool imsm = false;                 // a trainable or fixed gate mixes the original stream in
  int64_t gate_parameters = 0;       // the gate's W_A, W_B (0 for no-gate and none)
  int64_t batch_size = 4;            // examples per optimizer step's micro-batch
  int64_t sequence_length = 1024;    // the padded batch's length (at most max_input_length + max_output_length)
  int64_t weight_bytes = 4;          // per frozen weight: 4 fp32, 2 bf16/f16
  int64_t activation_bytes = 4;      // per activation: the model's dtype (autocast on CUDA)
  OptimizerKind optimizer = OptimizerKind::AdamW;
  bool checkpointing = false;        // activation checkpointing of decoder layers
  int64_t loss_chunk = 0;            // positions per chunk of the LM head + loss (0: the whole batch)
  int64_t scored_per_row = 0;        // chunked: the answer tokens a row scores at most (max_output_length; 0: every position)
  int64_t eval_batch_size = 0;       // evaluation during training (0: none)
  int64_t eval_length = 0;           // its prompt + answer tokens
};

struct MemoryPart {
  std::string name;    // "weights", "activations", ...
  double bytes = 0;
  std::string detail;  // how it was counted: "8.03B parameters × 2 bytes"
};

struct MemoryEstimate {
  std::vector<MemoryPart> parts;  // every part, in the order a person reads them
  double training_bytes = 0;      // the peak of a training step: the parameters' parts + activations + logits
  double evaluation_bytes = 0;    // the peak of an evaluation during training: the parameters' parts + caches
  double peak_bytes() const { return training_bytes > evaluation_bytes ? training_bytes : evaluation_bytes; }
};

MemoryEstimate estimate_memory(const MemoryPlan& plan);

// Trainable parameters of the PEFT method on this model (the shapes of the
// targeted linears): LoRA r·(in + out), DoRA + out, AdaLoRA + r, (IA)³ out
// (or in for feed-forward modules).
int64_t adapter_parameters(const ModelConfig& model, const PeftConfig& peft);

// The IMSM gate's W_A [r, k·d] and W_B [d, r] (k 4 for query, 2 for no-query;
// none for no-gate and none).
int64_t gate_parameters(GateVariant variant, int64_t rank, int64_t hidden_size);

// The estimate as a table for people: one row per part, then the peaks.
std::string format_estimate(const MemoryEstimate& e);

}  // namespace imsm
