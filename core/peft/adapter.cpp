#include "peft/adapter.h"

#include <cmath>

#include "model/dropout.h"

namespace imsm {

namespace {
// Adapters keep fp32 master weights and compute in fp32 (fp64 for fp64 models:
// the gradient checks run there).
torch::ScalarType master_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}
}  // namespace

torch::Tensor PeftAdapter::forward(const torch::Tensor& x, const Linear& base, const AdapterRows& rows) {
  const int64_t B = x.size(0), begin = rows.begin, end = rows.end < 0 ? B : rows.end;
  if (begin == 0 && end == B) return adapted(x, base);  // [B, T, out]
  if (additive()) {
    torch::Tensor y = base.base_forward(x);                                                 // [B, T, out]: one matmul for all rows
    const torch::Tensor d = delta(x.narrow(0, begin, end - begin)).to(y.scalar_type());   // [end - begin, T, out]
    if (!torch::GradMode::is_enabled()) {
      y.narrow(0, begin, end - begin).add_(d);
      return y;
    }
    return torch::cat({y.narrow(0, 0, begin), y.narrow(0, begin, end - begin) + d, y.narrow(0, end, B - end)}, 0);
  }
  std::vector<torch::Tensor> parts;
  if (begin > 0) parts.push_back(base.base_forward(x.narrow(0, 0, begin)));       // [begin, T, out]
  parts.push_back(adapted(x.narrow(0, begin, end - begin), base));                  // [end - begin, T, out]
  if (end < B) parts.push_back(base.base_forward(x.narrow(0, end, B - end)));      // [B - end, T, out]
  return torch::cat(parts, 0);                                                      // [B, T, out]
}

LoraAdapter::LoraAdapter(const Linear& base, const PeftConfig& c, at::Generator& gen)
    : scaling_(c.scaling()), dropout_(c.dropout), dora_(c.method == PeftMethod::DoRA) {
  torch::NoGradGuard no_grad;
  const int64_t in = base.weight.size(1), out = base.weight.size(0);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));  // kaiming_uniform_(a=√5)
  const auto dtype = master_dtype(base.weight);
  lora_A = at::empty({c.r, in}, torch::kFloat64).uniform_(-bound, bound, gen).to(base.weight.device(), dtype).requires_grad_(true);
  lora_B = torch::zeros({out, c.r}, torch::TensorOptions().dtype(dtype).device(base.weight.device())).requires_grad_(true);
  if (dora_) magnitude = base.weight.to(dtype).norm(2, {1}).requires_grad_(true);  // [out]
}

torch::Tensor LoraAdapter::delta(const torch::Tensor& x) const {
  const torch::Tensor x32 = x.to(lora_A.scalar_type());                                                  // [B, T, in]
  const torch::Tensor dropped = training_ && dropout_ > 0 ? imsm::dropout(x32, dropout_, true) : x32;  // [B, T, in]
  return torch::matmul(torch::matmul(dropped, lora_A.t()), lora_B.t()) * scaling_;                     // [B, T, out]
}

torch::Tensor LoraAdapter::adapted(const torch::Tensor& x, const Linear& base) const {
  const torch::Tensor lora = delta(x);                                                                   // [B, T, out]
  if (!dora_) return base.base_forward(x) + lora.to(x.scalar_type());                                   // [B, T, out]
  const torch::Tensor x32 = x.to(lora_A.scalar_type());                                                  // [B, T, in]
  const torch::Tensor w32 = base.weight.to(lora_A.scalar_type());                                         // [out, in]
  const torch::Tensor weight_norm = adapted_weight(base).norm(2, {1}).detach();                           // [out]
  const torch::Tensor scale = magnitude / weight_norm;                                                   // [out]
  torch::Tensor y = (torch::matmul(x32, w32.t()) + lora) * scale;                                        // [B, T, out]
  if (base.bias.defined()) y = y + base.bias.to(lora_A.scalar_type());
  return y.to(x.scalar_type());
}

std::vector<std::pair<std::string, torch::Tensor*>> LoraAdapter::named_tensors() {
  std::vector<std::pair<std::string, torch::Tensor*>> out = {{"lora_A.weight", &lora_A}, {"lora_B.weight", &lora_B}};
  if (dora_) out.emplace_back("lora_magnitude_vector.weight", &magnitude);
  return out;
}

torch::Tensor LoraAdapter::adapted_weight(const Linear& base) const {
  return base.weight.to(lora_A.scalar_type()) + scaling_ * torch::matmul(lora_B, lora_A);  // [out, in]
}

void LoraAdapter::merge_into(Linear& base) const {
  torch::NoGradGuard no_grad;
  torch::Tensor merged = adapted_weight(base);                                          // [out, in]
  if (dora_) merged = merged * (magnitude / merged.norm(2, {1})).unsqueeze(1);         // [out, in]: row o scaled to m_o
  base.weight = merged.to(base.weight.scalar_type());
}

Ia3Adapter::Ia3Adapter(const Linear& base, bool feedforward) : feedforward_(feedforward) {
  const int64_t in = base.weight.size(1), out = base.weight.size(0);
  const auto opts = torch::TensorOptions().dtype(master_dtype(base.weight)).device(base.weight.device());
  ia3_l = (feedforward ? torch::ones({1, in}, opts) : torch::ones({out, 1}, opts)).requires_grad_(true);
}

torch::Tensor Ia3Adapter::adapted(const torch::Tensor& x, const Linear& base) const {
  const torch::Tensor l = ia3_l.flatten();                                     // [in] or [out]
  if (feedforward_) return base.base_forward((x.to(l.scalar_type()) * l).to(x.scalar_type()));  // [B, T, out]
  return (base.base_forward(x).to(l.scalar_type()) * l).to(x.scalar_type());                   // [B, T, out]
}

std::vector<std::pair<std::string, torch::Tensor*>> Ia3Adapter::named_tensors() { return {{"ia3_l", &ia3_l}}; }

void Ia3Adapter::merge_into(Linear& base) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor w32 = base.weight.to(ia3_l.scalar_type());                  // [out, in]
  base.weight = (w32 * ia3_l).to(base.weight.scalar_type());                       // l [1, in]: columns; l [out, 1]: rows
  if (!feedforward_ && base.bias.defined())
    base.bias = (base.bias.to(ia3_l.scalar_type()) * ia3_l.flatten()).to(base.bias.scalar_type());  // [out]
}

}  // namespace imsm
