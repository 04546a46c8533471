#include "train/optimizer.h"

#include <cmath>
#include <map>

#include "util/error.h"

namespace imsm {

void Optimizer::zero_grad() {
  for (auto& p : params_)
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
}

namespace {

using State = std::vector<std::pair<std::string, torch::Tensor>>;

// Copies saved slots into `slots` (same names), checking shapes.
void restore(std::map<std::string, torch::Tensor>& slots, int64_t& step, const State& saved, const std::string& where) {
  std::map<std::string, torch::Tensor> by_name(saved.begin(), saved.end());
  torch::NoGradGuard g;
  for (auto& [name, t] : slots) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) throw_bad_input(where, "optimizer state has no \"" + name + "\"");
    if (it->second.sizes() != t.sizes()) throw_bad_input(where, "optimizer state \"" + name + "\" has the wrong shape");
    t.copy_(it->second);
  }
  const auto s = by_name.find("step");
  if (s == by_name.end()) throw_bad_input(where, "optimizer state has no \"step\"");
  step = s->second.item<int64_t>();
}

State collect(const std::map<std::string, torch::Tensor>& slots, int64_t step) {
  State out(slots.begin(), slots.end());
  out.emplace_back("step", torch::tensor({step}, torch::kInt64));
  return out;
}

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<NamedParameter> params, double weight_decay) : Optimizer(std::move(params)), wd_(weight_decay) {
    for (const auto& p : params_) {
      slots_[p.name + "/exp_avg"] = torch::zeros_like(p.tensor).detach();
      slots_[p.name + "/exp_avg_sq"] = torch::zeros_like(p.tensor).detach();
    }
  }
  void step(double group_lr) override {
    torch::NoGradGuard g;
    ++step_;
    const double bc1 = 1 - std::pow(kBeta1, static_cast<double>(step_)), bc2 = 1 - std::pow(kBeta2, static_cast<double>(step_));
    for (auto& p : params_) {
      const torch::Tensor grad = p.tensor.grad();
      if (!grad.defined()) continue;
      const double lr = group_lr * p.lr_scale;
      torch::Tensor& m = slots_[p.name + "/exp_avg"];
      torch::Tensor& v = slots_[p.name + "/exp_avg_sq"];
      p.tensor.mul_(1 - lr * wd_);                                   // decoupled weight decay
      m.mul_(kBeta1).add_(grad, 1 - kBeta1);                          // m = β1 m + (1 − β1) g
      v.mul_(kBeta2).addcmul_(grad, grad, 1 - kBeta2);                // v = β2 v + (1 − β2) g²
      const torch::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(kEps);
      p.tensor.addcdiv_(m, denom, -lr / bc1);                         // p -= lr · m̂ / (√v̂ + ε)
    }
  }
  State state() const override { return collect(slots_, step_); }
  void load_state(const State& s, const std::string& where) override { restore(slots_, step_, s, where); }

 private:
  static constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  double wd_;
  std::map<std::string, torch::Tensor> slots_;
};

class Adafactor : public Optimizer {
 public:
  Adafactor(std::vector<NamedParameter> params, double weight_decay) : Optimizer(std::move(params)), wd_(weight_decay) {
    for (const auto& p : params_) {
      const auto& t = p.tensor;
      if (t.dim() >= 2) {  // factored second moment: a row and a column statistic
        const std::vector<int64_t> row(t.sizes().begin(), t.sizes().end() - 1);
        slots_[p.name + "/exp_avg_sq_row"] = torch::zeros(row, t.options()).detach();
        std::vector<int64_t> col(t.sizes().begin(), t.sizes().end());
        col.erase(col.end() - 2);
        slots_[p.name + "/exp_avg_sq_col"] = torch::zeros(col, t.options()).detach();
      } else {
        slots_[p.name + "/exp_avg_sq"] = torch::zeros_like(t).detach();
      }
    }
  }
  void step(double group_lr) override {
    torch::NoGradGuard g;
    ++step_;
    const double beta2t = 1.0 - std::pow(static_cast<double>(step_), kDecayRate);
    for (auto& p : params_) {
      const torch::Tensor grad = p.tensor.grad();
      if (!grad.defined()) continue;
      const double lr = group_lr * p.lr_scale;
      const torch::Tensor sq = grad.pow(2) + kEps1;
      torch::Tensor update;
      if (p.tensor.dim() >= 2) {
        torch::Tensor& row = slots_[p.name + "/exp_avg_sq_row"];
        torch::Tensor& col = slots_[p.name + "/exp_avg_sq_col"];
        row.mul_(beta2t).add_(sq.mean(-1), 1 - beta2t);
        col.mul_(beta2t).add_(sq.mean(-2), 1 - beta2t);
        const torch::Tensor r = (row / row.mean(-1, true)).rsqrt().unsqueeze(-1);  // [..., rows, 1]
        const torch::Tensor c = col.unsqueeze(-2).rsqrt();                          // [..., 1, cols]
        update = r * c * grad;
      } else {
        torch::Tensor& v = slots_[p.name + "/exp_avg_sq"];
        v.mul_(beta2t).add_(sq, 1 - beta2t);
        update = v.rsqrt() * grad;
      }
      const double rms = update.pow(2).mean().sqrt().item<double>();
      update.div_(std::max(1.0, rms / kClip)).mul_(lr);
      if (wd_ != 0) p.tensor.add_(p.tensor, -wd_ * lr);
      p.tensor.sub_(update);
    }
  }
  State state() const override { return collect(slots_, step_); }
  void load_state(const State& s, const std::string& where) override { restore(slots_, step_, s, where); }

 private:
  static constexpr double kEps1 = 1e-30, kDecayRate = -0.8, kClip = 1.0;
  double wd_;
  std::map<std::string, torch::Tensor> slots_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, std::vector<NamedParameter> params, double weight_decay) {
  switch (kind) {
    case OptimizerKind::AdamW: return std::make_unique<AdamW>(std::move(params), weight_decay);
    case OptimizerKind::Adafactor: return std::make_unique<Adafactor>(std::move(params), weight_decay);
  }
  throw_internal("make_optimizer: an optimizer without an implementation");
}

}  // namespace imsm
