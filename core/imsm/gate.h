// The IMSM gate (Song et al., AAAI 2025, Eq. 1-2):
//   g_t  = sigmoid( [q̄_M ⊕ h_M^t ⊕ h_M'^t ⊕ q̄_M'] · W_A · W_B )
//   h_N^t = g_t ∘ h_M^t + (1 − g_t) ∘ h_M'^t
// W_A is stored as nn.Linear's weight gate_A [r, k·d] and applied block by
// block (the k·d-wide concatenation is never built; the query blocks once per
// sequence); W_B as gate_B [d, r]. Dropout on the output of both maps, as the
// official code. Math in fp32 (fp64 for fp64 models).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "imsm/gate_config.h"

namespace imsm {

// The gate's math: fp32, or fp64 for an fp64 model (never half precision).
torch::ScalarType gate_dtype(torch::ScalarType model_dtype);

class ImsmGate {
 public:
  // gate_A, gate_B initialised as torch.nn.Linear (Kaiming uniform: U(±1/√fan_in));
  // the no-gate variant (the fixed mix) has neither. `dtype`: the gate's math.
  ImsmGate(const GateConfig& config, torch::Device device, torch::ScalarType dtype, uint64_t seed);

  // h_M, h_Mp: [B, T, d]; q_M, q_Mp: [B, d] (ignored by no-query) -> g: [B, T, d].
  torch::Tensor gate(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& q_M,
                     const torch::Tensor& q_Mp) const;
  // h_N = g ∘ h_M + (1 − g) ∘ h_M' ([B, T, d]); for no-gate α h_M + (1 − α) h_M'. `g_out` receives g
  // (no-gate: α everywhere). q_M, q_Mp are read by the query variant only (uses_query()).
  torch::Tensor mix(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& q_M,
                    const torch::Tensor& q_Mp, torch::Tensor* g_out = nullptr) const;

  // h_N = g ∘ h_M + (1 − g) ∘ h_M' for a given g (all [B, T, d]).
  static torch::Tensor interweave(const torch::Tensor& g, const torch::Tensor& h_M, const torch::Tensor& h_Mp);
  // The no-gate variant's mix, α h_M + (1 − α) h_M' ([B, T, d]), computed in `dtype`.
  static torch::Tensor fixed_mix(double alpha, const torch::Tensor& h_M, const torch::Tensor& h_Mp, torch::ScalarType dtype);
  // A no-gate gate mixing with the constant α ∈ [0, 1] (evaluation along α of any adapter: WiSE-FT).
  static std::unique_ptr<ImsmGate> fixed(double alpha, int64_t hidden_size, torch::Device device, torch::ScalarType dtype);

  // imsm_config.json, and imsm_gate.safetensors when the variant has weights.
  void save(const std::string& dir) const;
  // Null for a folder whose variant is none (the PEFT method alone).
  static std::unique_ptr<ImsmGate> load(const std::string& dir, torch::Device device, torch::ScalarType dtype);

  // The trainable weights by their PEFT-style names ("imsm.gate_A.weight", ...); none for no-gate.
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
  int64_t num_parameters() const;
  void set_training(bool training) { training_ = training; }
  const GateConfig& config() const { return config_; }
  GateVariant variant() const { return config_.variant; }
  bool trainable() const { return has_weights(config_.variant); }  // query, no-query: W_A and W_B train
  bool uses_query() const { return config_.variant == GateVariant::Query; }
  torch::ScalarType dtype() const { return dtype_; }

  torch::Tensor gate_A;  // [r, k·d] (undefined for no-gate)
  torch::Tensor gate_B;  // [d, r] (undefined for no-gate)

 private:
  GateConfig config_;
  torch::ScalarType dtype_;
  bool training_ = false;
};

// Mean of h over each sequence's first query_len positions: h [B, T, d],
// query_len [B] int64 -> [B, d] (training's right-padded batches).
torch::Tensor query_mean(const torch::Tensor& h, const torch::Tensor& query_len);
// Mean of h over the positions `weights` marks: h [B, T, d], weights [B, T, 1]
// of 0/1 in h's dtype -> [B, d] (decoding's left-padded prompt; query_mean).
torch::Tensor masked_mean(const torch::Tensor& h, const torch::Tensor& weights);

}  // namespace imsm
