#include "peft/adalora.h"

#include "model/dropout.h"
#include "util/error.h"

namespace imsm {

AdaLoraAdapter::AdaLoraAdapter(const Linear& base, const PeftConfig& c, int64_t r, at::Generator& gen)
    : alpha_(c.alpha > 0 ? c.alpha : static_cast<double>(c.r)), dropout_(c.dropout), ranknum_(static_cast<double>(c.r)) {
  torch::NoGradGuard no_grad;
  const int64_t in = base.weight.size(1), out = base.weight.size(0);
  const auto dtype = base.weight.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const auto dev = base.weight.device();
  lora_A = at::normal(0.0, 0.02, {r, in}, gen, torch::kFloat64).to(dev, dtype).requires_grad_(true);
  lora_B = at::normal(0.0, 0.02, {out, r}, gen, torch::kFloat64).to(dev, dtype).requires_grad_(true);
  lora_E = torch::zeros({r, 1}, torch::TensorOptions().dtype(dtype).device(dev)).requires_grad_(true);
}

torch::Tensor AdaLoraAdapter::delta(const torch::Tensor& x) const {
  const torch::Tensor xa = x.to(lora_A.scalar_type());                                                   // [B, T, in]
  const torch::Tensor dropped = training_ && dropout_ > 0 ? imsm::dropout(xa, dropout_, true) : xa;    // [B, T, in]
  return torch::matmul(torch::matmul(dropped, (lora_A * lora_E).t()), lora_B.t()) * (alpha_ / (ranknum_ + 1e-5));  // [B, T, out]
}

torch::Tensor AdaLoraAdapter::adapted(const torch::Tensor& x, const Linear& base) const {
  return base.base_forward(x) + delta(x).to(x.scalar_type());  // [B, T, out]
}

std::vector<std::pair<std::string, torch::Tensor*>> AdaLoraAdapter::named_tensors() {
  return {{"lora_A", &lora_A}, {"lora_B", &lora_B}, {"lora_E", &lora_E}};  // PEFT's names (ParameterDicts)
}

void AdaLoraAdapter::merge_into(Linear& base) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor w32 = base.weight.to(lora_A.scalar_type());                                          // [out, in]
  const torch::Tensor update = torch::matmul(lora_B, lora_A * lora_E) * (alpha_ / (ranknum_ + 1e-5));      // [out, in]
  base.weight = (w32 + update).to(base.weight.scalar_type());
}

RankAllocator::RankAllocator(std::map<std::string, AdaLoraAdapter*> adapters, const AdaLoraSettings& settings, int64_t init_r)
    : adapters_(std::move(adapters)), settings_(settings) {
  const auto n = static_cast<int64_t>(adapters_.size());
  init_budget_ = init_r * n;
  target_budget_ = settings.target_r * n;
  if (settings.total_step <= settings.tinit + settings.tfinal)
    throw_bad_input("adalora", "total_step (" + std::to_string(settings.total_step) + ") must exceed tinit + tfinal (" +
                                   std::to_string(settings.tinit + settings.tfinal) + ")");
  pattern_ = settings.rank_pattern;
}

std::pair<int64_t, bool> RankAllocator::budget_schedule(int64_t step) const {
  const int64_t tinit = settings_.tinit, tfinal = settings_.tfinal, total = settings_.total_step;
  if (step <= tinit) return {init_budget_, false};
  if (step > total - tfinal) return {target_budget_, true};
  const double coeff = 1.0 - static_cast<double>(step - tinit) / static_cast<double>(total - tfinal - tinit);
  const auto budget = static_cast<int64_t>(static_cast<double>(init_budget_ - target_budget_) * coeff * coeff * coeff +
                                           static_cast<double>(target_budget_));
  return {budget, step % settings_.delta_t == 0};
}

void RankAllocator::update_importance() {
  torch::NoGradGuard no_grad;
  for (auto& [module, a] : adapters_) {
    for (auto [slot, p] : {std::pair<const char*, torch::Tensor*>{"A", &a->lora_A}, {"B", &a->lora_B}, {"E", &a->lora_E}}) {
      if (!p->grad().defined()) continue;
      const std::string key = module + "/" + slot;
      const torch::Tensor ipt = (*p * p->grad()).abs();  // sensitivity |w · ∂L/∂w|
      auto& avg = exp_avg_ipt_[key];
      auto& unc = exp_avg_unc_[key];
      if (!avg.defined()) avg = torch::zeros_like(ipt), unc = torch::zeros_like(ipt);
      avg.mul_(settings_.beta1).add_(ipt, 1 - settings_.beta1);
      unc.mul_(settings_.beta2).add_((ipt - avg).abs(), 1 - settings_.beta2);
    }
  }
}

torch::Tensor RankAllocator::score(const std::string& key) const {
  const auto a = exp_avg_ipt_.find(key), u = exp_avg_unc_.find(key);
  if (a == exp_avg_ipt_.end()) throw_internal("AdaLoRA: no importance yet for " + key);
  return a->second * u->second;
}

const std::map<std::string, std::vector<bool>>& RankAllocator::mask_to_budget(int64_t budget) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> triplet;  // module -> [r] importance of each (P_i, λ_i, Q_i)
  std::vector<torch::Tensor> all;
  for (const auto& [module, a] : adapters_) {
    const torch::Tensor e = score(module + "/E").view(-1);              // [r]
    const torch::Tensor q = score(module + "/A").mean(1).view(-1);      // [r]: mean over the row of Q
    const torch::Tensor p = score(module + "/B").mean(0).view(-1);      // [r]: mean over the column of P
    triplet[module] = e + q + p;
    all.push_back(triplet[module]);
  }
  const int64_t k = init_budget_ - budget;
  if (k <= 0) return pattern_;
  const double threshold = std::get<0>(torch::cat(all).kthvalue(k)).item<double>();
  for (auto& [module, a] : adapters_) {
    const torch::Tensor pruned = (triplet[module] <= threshold).view({-1, 1});  // [r, 1]
    a->lora_E.masked_fill_(pruned, 0.0);
    const torch::Tensor kept = pruned.logical_not().view(-1).to(torch::kCPU);
    std::vector<bool> bits(static_cast<size_t>(kept.numel()));
    for (int64_t i = 0; i < kept.numel(); ++i) bits[static_cast<size_t>(i)] = kept[i].item<bool>();
    pattern_[module] = bits;
  }
  return pattern_;
}

void RankAllocator::mask_using_pattern() {
  torch::NoGradGuard no_grad;
  for (auto& [module, a] : adapters_) {
    const auto it = pattern_.find(module);
    if (it == pattern_.end()) continue;
    for (size_t i = 0; i < it->second.size(); ++i)
      if (!it->second[i]) a->lora_E[static_cast<int64_t>(i)].fill_(0.0);
  }
}

const std::map<std::string, std::vector<bool>>& RankAllocator::update_and_allocate(int64_t global_step) {
  const int64_t final_start = settings_.total_step - settings_.tfinal;
  if (global_step < final_start) {
    update_importance();
    const auto [budget, mask] = budget_schedule(global_step);
    if (mask) mask_to_budget(budget);
  } else if (global_step == final_start) {
    if (exp_avg_ipt_.empty()) update_importance();
    mask_to_budget(budget_schedule(global_step).first);  // the final allocation
    exp_avg_ipt_.clear();
    exp_avg_unc_.clear();
  } else {
    mask_using_pattern();
  }
  return pattern_;
}

torch::Tensor RankAllocator::orthogonal_regularization() const {
  torch::Tensor sum;
  int64_t n = 0;
  for (const auto& [module, a] : adapters_) {
    for (const bool is_A : {true, false}) {
      const torch::Tensor& p = is_A ? a->lora_A : a->lora_B;
      if (p.numel() == 0) continue;
      const torch::Tensor cov = is_A ? torch::matmul(p, p.t()) : torch::matmul(p.t(), p);  // [r, r]
      const torch::Tensor term = (cov - torch::eye(cov.size(0), cov.options())).norm();   // Frobenius
      sum = sum.defined() ? sum + term : term;
      ++n;
    }
  }
  return n == 0 ? torch::zeros({}) : sum / static_cast<double>(n);
}

std::vector<std::pair<std::string, torch::Tensor>> RankAllocator::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [key, t] : exp_avg_ipt_) out.emplace_back(key + "/ipt", t);
  for (const auto& [key, t] : exp_avg_unc_) out.emplace_back(key + "/unc", t);
  return out;
}

void RankAllocator::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  exp_avg_ipt_.clear();
  exp_avg_unc_.clear();
  for (const auto& [key, t] : state) {
    const auto slash = key.rfind('/');
    (key.compare(slash + 1, std::string::npos, "ipt") == 0 ? exp_avg_ipt_ : exp_avg_unc_)[key.substr(0, slash)] = t.clone();
  }
}

}  // namespace imsm
