// Elastic weight consolidation (Kirkpatrick et al., PNAS 2017), the
// regularisation baseline, over a run's trainable parameters θ:
//   penalty = Σ_i F_i (θ_i − θ₀_i)²
// with θ₀ the parameters at the start of training (the adapters' identity:
// the base model) and F the diagonal empirical Fisher there on general data,
//   F_i = 1/N Σ_n (∂ℓ_n/∂θ_i)²,  ℓ_n the mean answer-token NLL of example n,
// each example's gradient taken alone, dropout off. At the start LoRA's B is
// 0, so the Fisher of its A (and of the IMSM gate, whose two streams are then
// equal) is 0: EWC holds B, the directions that change the output.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "train/batch.h"
#include "train/optimizer.h"
#include "util/run_protocol.h"

namespace imsm {

struct EwcAnchor {
  std::vector<std::pair<std::string, torch::Tensor>> fisher;  // per parameter, its shape: F
  std::vector<std::pair<std::string, torch::Tensor>> start;   // per parameter, its shape: θ₀
  int64_t examples = 0;                                       // N
};

// The anchor at the parameters' current values. `nll`: the mean answer-token
// NLL of a batch with autograd to `params` (dropout off). Progress stage
// "EWC Fisher"; cancel between examples (Error Cancelled).
EwcAnchor estimate_fisher(const std::vector<NamedParameter>& params, const std::function<torch::Tensor(const TrainBatch&)>& nll,
                          const std::vector<EncodedExample>& sample, torch::Device device, const Hooks& hooks = {});

// Σ F (θ − θ₀)² over `params`, matched by name (scalar, with autograd to θ).
torch::Tensor ewc_penalty(const EwcAnchor& anchor, const std::vector<NamedParameter>& params);

// The anchor cached as safetensors ("fisher.NAME", "start.NAME" in fp32),
// `key` in its metadata: what it was computed from.
void save_anchor(const EwcAnchor& anchor, const std::string& path, const std::string& key);
// The cached anchor when `path` holds one with this key and these parameters
// (names and shapes); false otherwise (then compute it again).
bool load_anchor(const std::string& path, const std::string& key, const std::vector<NamedParameter>& params, EwcAnchor& out);

}  // namespace imsm
