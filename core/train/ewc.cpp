#include "train/ewc.h"

#include <filesystem>

#include "io/safetensors.h"
#include "model/tensor_io.h"
#include "util/error.h"

namespace imsm {

EwcAnchor estimate_fisher(const std::vector<NamedParameter>& params, const std::function<torch::Tensor(const TrainBatch&)>& nll,
                          const std::vector<EncodedExample>& sample, torch::Device device, const Hooks& hooks) {
  EwcAnchor a;
  a.examples = static_cast<int64_t>(sample.size());
  for (const auto& p : params) {
    a.fisher.emplace_back(p.name, torch::zeros_like(p.tensor, torch::TensorOptions().dtype(torch::kFloat32)));  // [shape]
    a.start.emplace_back(p.name, p.tensor.detach().to(torch::kFloat32).clone());                                 // [shape]
  }
  for (size_t n = 0; n < sample.size(); ++n) {
    hooks.check_abort("EWC's Fisher cancelled");
    for (const auto& p : params)
      if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
    const TrainBatch one = collate({&sample[n]}, device);
    nll(one).backward();  // ∂ℓ_n/∂θ
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i].tensor.grad().defined()) a.fisher[i].second.add_(params[i].tensor.grad().to(torch::kFloat32).square());
    hooks.progress({"EWC Fisher", static_cast<int64_t>(n + 1), a.examples});
  }
  for (const auto& p : params)
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  for (auto& [name, f] : a.fisher) f.div_(static_cast<double>(std::max<int64_t>(1, a.examples)));
  return a;
}

torch::Tensor ewc_penalty(const EwcAnchor& anchor, const std::vector<NamedParameter>& params) {
  torch::Tensor sum;
  for (const auto& p : params) {
    for (size_t i = 0; i < anchor.fisher.size(); ++i) {
      if (anchor.fisher[i].first != p.name) continue;
      const auto acc = p.tensor.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
      const torch::Tensor F = anchor.fisher[i].second.to(p.tensor.device(), acc);      // [shape]
      const torch::Tensor theta0 = anchor.start[i].second.to(p.tensor.device(), acc);  // [shape]
      const torch::Tensor term = (F * (p.tensor.to(acc) - theta0).square()).sum();    // scalar
      sum = sum.defined() ? sum + term : term;
    }
  }
  if (!sum.defined()) throw_internal("ewc_penalty: no parameter of the anchor is trained");
  return sum;
}

void save_anchor(const EwcAnchor& a, const std::string& path, const std::string& key) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [name, f] : a.fisher) tensors.emplace_back("fisher." + name, f);
  for (const auto& [name, s] : a.start) tensors.emplace_back("start." + name, s);
  save_tensors(path, tensors, {{"key", key}, {"examples", std::to_string(a.examples)}});
}

bool load_anchor(const std::string& path, const std::string& key, const std::vector<NamedParameter>& params, EwcAnchor& out) {
  if (!std::filesystem::exists(path)) return false;
  const SafetensorsFile file = SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  if (!meta.count("key") || meta.at("key") != key || !meta.count("examples")) return false;
  EwcAnchor a;
  a.examples = std::stoll(meta.at("examples"));
  for (const auto& p : params) {
    const TensorView* f = file.find("fisher." + p.name);
    const TensorView* s = file.find("start." + p.name);
    if (!f || !s || f->shape != p.tensor.sizes().vec() || s->shape != p.tensor.sizes().vec()) return false;
    a.fisher.emplace_back(p.name, to_tensor(*f, file.mapping(), torch::kCPU, torch::kFloat32).clone());
    a.start.emplace_back(p.name, to_tensor(*s, file.mapping(), torch::kCPU, torch::kFloat32).clone());
  }
  out = std::move(a);
  return true;
}

}  // namespace imsm
