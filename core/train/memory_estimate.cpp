#include "train/memory_estimate.h"

#include <algorithm>
#include <cstdio>

#include "model/layout.h"

namespace imsm {
namespace {

// Activations one decoder layer keeps per token for its backward, in elements
// of hidden size d, key/value size kv and intermediate size I: the layer's
// input, both RMSNorms' outputs, q, k, v before and after RoPE, k and v
// repeated for grouped-query attention, the attention output; the MLP's gate,
// up, SiLU and product. The factors below are fitted to tests/bench/bench_train's
// measured peaks (fp32, CPU; docs/PERFORMANCE.md) and rounded.
constexpr double kLayerD = 9, kLayerKv = 2, kLayerI = 4.5;
// The backward pass's working set, in layers' worth of activations: the
// gradients in flight beside what a layer frees (1), or with checkpointing the
// recomputed layer, its gradients and temporaries (2.5: measured 2.2-3).
constexpr double kBackwardLayers = 1, kBackwardLayersCheckpointed = 2.5;
// The siamese stream's extra per token: h_M' and the gate's input [h_M ⊕ h_M' ⊕ q ⊕ q'], g, the mix.
constexpr double kGateD = 8;
// Bytes per logit: the whole batch's logits, their fp32 copy and log-softmax and
// the gradient (4 fp32 tensors, of which the allocator reuses some: measured
// ~3.5 by bench_memory.sh); a chunk's fp32 logits and softmax (2).
constexpr double kLogitBytes = 14, kChunkLogitBytes = 8;
// The allocator's and the kernels' own buffers (BLAS, thread pools): measured ~60 MiB.
constexpr double kRuntimeBytes = 64.0 * 1024 * 1024;

std::string millions(double n) {
  char buf[64];
  if (n >= 1e9) std::snprintf(buf, sizeof(buf), "%.2fB", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof(buf), "%.2fM", n / 1e6);
  else std::snprintf(buf, sizeof(buf), "%.0f", n);
  return buf;
}

// A linear's module name without ".weight", when a PEFT method can target it (decoder layers only).
bool adaptable(const ExpectedTensor& t, std::string& module) {
  const std::string suffix = ".weight";
  if (t.shape.size() != 2 || t.name.find(".layers.") == std::string::npos || t.name.size() <= suffix.size()) return false;
  module = t.name.substr(0, t.name.size() - suffix.size());
  return true;
}

// Per token, the LoRA-family adapters' own activations in a layer, in values
// of activation_bytes (peft/adapter.cpp, model/dropout.cpp): each adapted
// linear keeps its fp32 input for lora_A's gradient (4 bytes an element, as
// measured on SmolLM2 even where q, k and v read the same input), with
// dropout also the dropped copy and its 1-byte mask, and its fp32 rank-r product.
double adapter_activations(const ModelConfig& model, const PeftConfig& peft, int64_t activation_bytes) {
  if (peft.method == PeftMethod::IA3) return 0;  // a scaled output: nothing beyond the base linear's
  const double input_bytes = 4 + (peft.dropout > 0 ? 4 + 1 : 0);
  double bytes = 0;
  std::string module;
  for (const ExpectedTensor& t : expected_tensors(model))
    if (t.name.find(".layers.0.") != std::string::npos && adaptable(t, module) && peft.targets(module))
      bytes += static_cast<double>(t.shape[1]) * input_bytes + static_cast<double>(peft.r) * 4;
  return bytes / static_cast<double>(activation_bytes);
}

}  // namespace

int64_t adapter_parameters(const ModelConfig& model, const PeftConfig& peft) {
  int64_t total = 0;
  std::string module;
  for (const ExpectedTensor& t : expected_tensors(model)) {
    if (!adaptable(t, module) || !peft.targets(module)) continue;
    const int64_t out = t.shape[0], in = t.shape[1];
    switch (peft.method) {
      case PeftMethod::LoRA: total += peft.r * (in + out); break;
      case PeftMethod::DoRA: total += peft.r * (in + out) + out; break;
      case PeftMethod::AdaLoRA: total += peft.r * (in + out) + peft.r; break;
      case PeftMethod::IA3: total += peft.is_feedforward(module) ? in : out; break;
    }
  }
  return total;
}

int64_t gate_parameters(GateVariant variant, int64_t rank, int64_t hidden_size) {
  if (!has_weights(variant)) return 0;
  const int64_t blocks = variant == GateVariant::Query ? 4 : 2;
  return rank * blocks * hidden_size + hidden_size * rank;
}

MemoryEstimate estimate_memory(const MemoryPlan& p) {
  const ModelConfig& m = p.model;
  const double d = static_cast<double>(m.hidden_size), I = static_cast<double>(m.intermediate_size);
  const double kv = static_cast<double>(m.num_key_value_heads * m.head_dim), L = static_cast<double>(m.num_hidden_layers);
  const double V = static_cast<double>(m.vocab_size), tokens = static_cast<double>(p.batch_size * p.sequence_length);
  const double act = static_cast<double>(p.activation_bytes);
  const double weights = static_cast<double>(m.num_parameters());
  const double trainable = static_cast<double>(adapter_parameters(m, p.peft) + p.gate_parameters);

  MemoryEstimate e;
  auto add = [&](const std::string& name, double bytes, const std::string& detail) {
    e.parts.push_back({name, bytes, detail});
    return bytes;
  };
  double fixed = add("weights", weights * static_cast<double>(p.weight_bytes),
                     millions(weights) + " parameters × " + std::to_string(p.weight_bytes) + " bytes (frozen)");
  fixed += add("adapters + gate", trainable * 4, millions(trainable) + " trainable parameters, fp32");
  fixed += add("gradients", trainable * 4, "one per trainable parameter");
  const bool adamw = p.optimizer == OptimizerKind::AdamW;
  fixed += add("optimizer state", trainable * 4 * (adamw ? 2 : 1),
               adamw ? "AdamW: two moments per parameter" : "Adafactor: factored second moment (at most one per parameter)");

  const double layer = kLayerD * d + kLayerKv * kv + kLayerI * I + adapter_activations(m, p.peft, p.activation_bytes);  // per token
  const double siamese = p.imsm ? kGateD * d : 0;
  const double kept = (p.checkpointing ? L * d : L * layer) + siamese + 2 * d;  // + the final norm and its input
  char how[160];
  std::snprintf(how, sizeof(how), "%s tokens × %.0f values per token%s%s", millions(tokens).c_str(), kept,
                p.checkpointing ? " (checkpointed: each layer's input)" : " (every layer)", p.imsm ? ", with the siamese stream" : "");
  const double activations = add("activations", tokens * kept * act, how);
  const double layers_in_flight = p.checkpointing ? kBackwardLayersCheckpointed : kBackwardLayers;
  const double backward = add("backward", tokens * layer * layers_in_flight * act,
                              p.checkpointing ? "one layer recomputed, with its gradients" : "gradients in flight, one layer's worth");

  // The chunked head sees the scored positions only: at most a chunk, and at most the answers' tokens.
  const double scored = p.scored_per_row > 0 ? static_cast<double>(p.batch_size * p.scored_per_row) : tokens;
  const double positions = p.loss_chunk > 0 ? std::min({static_cast<double>(p.loss_chunk), scored, tokens}) : tokens;
  const double logits = add("logits", positions * V * (p.loss_chunk > 0 ? kChunkLogitBytes : kLogitBytes) + (p.loss_chunk > 0 ? tokens * d * 4 : 0),
                            millions(positions) + (p.loss_chunk > 0 ? " positions per chunk" : " positions (the whole batch)") + " × " +
                                millions(V) + " vocabulary, with the loss's own tensors");
  const double runtime = add("runtime", kRuntimeBytes, "the allocator's and kernels' buffers");
  // With checkpointing the head's logits are gone before the layers are recomputed; without, the backward starts beside them.
  e.training_bytes = fixed + activations + (p.checkpointing ? std::max(logits, backward) : logits + backward) + runtime;

  if (p.eval_batch_size > 0) {
    const double rows = static_cast<double>(p.eval_batch_size) * (p.imsm ? 2 : 1);  // IMSM decodes both streams
    const double cache = 2 * L * rows * static_cast<double>(p.eval_length) * kv * act;
    const double step = rows * static_cast<double>(p.eval_length) * std::max(I, d) * act + rows * V * 4;  // prefill's widest tensor, one step's logits
    add("evaluation", cache + step, "KV cache of " + millions(rows) + " rows × " + std::to_string(p.eval_length) + " tokens" +
                                        (p.imsm ? " (both streams)" : "") + ", + the prefill's widest tensor");
    e.evaluation_bytes = fixed + cache + step + runtime;
  }
  return e;
}

std::string format_estimate(const MemoryEstimate& e) {
  std::string out;
  for (const MemoryPart& part : e.parts) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %-16s %12s  ", part.name.c_str(), format_bytes(part.bytes).c_str());
    out += line + part.detail + "\n";
  }
  char line[96];
  std::snprintf(line, sizeof(line), "  %-16s %12s  the peak of a training step\n", "training", format_bytes(e.training_bytes).c_str());
  out += line;
  if (e.evaluation_bytes > 0) {
    std::snprintf(line, sizeof(line), "  %-16s %12s  the peak of an evaluation during training\n", "evaluating", format_bytes(e.evaluation_bytes).c_str());
    out += line;
  }
  return out;
}

}  // namespace imsm
