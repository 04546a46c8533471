// A linear layer of the model, exposed by its Hugging Face name so that PEFT
// adapters can wrap it from outside. The model knows only the interface.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

namespace imsm {

class Linear;

// Rows of the batch an adapter applies to: IMSM runs the original stream and
// the tuned stream in one batch, and only the tuned rows carry the adapter.
struct AdapterRows {
  int64_t begin = 0;
  int64_t end = -1;  // -1: to the end of the batch
  bool enabled = true;
};

class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  // x: [B, T, in] -> [B, T, out], the adapted layer's output.
  virtual torch::Tensor forward(const torch::Tensor& x, const Linear& base, const AdapterRows& rows) = 0;
};

class Linear {
 public:
  Linear() = default;
  Linear(std::string name, torch::Tensor weight, torch::Tensor bias)
      : name(std::move(name)), weight(std::move(weight)), bias(std::move(bias)) {}

  // x: [B, T, in] -> [B, T, out]. Through the adapter when one is set.
  torch::Tensor forward(const torch::Tensor& x, const AdapterRows& rows) const;
  // x W^T + b, never adapted.
  torch::Tensor base_forward(const torch::Tensor& x) const;

  std::string name;                       // "model.layers.0.self_attn.q_proj"
  torch::Tensor weight;                   // [out, in]
  torch::Tensor bias;                     // [out] or undefined
  std::shared_ptr<LinearAdapter> adapter; // null: plain layer
};

}  // namespace imsm
