#include "model/checkpoint.h"

#include "model/rng_snapshot.h"

namespace imsm {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the backward needs besides the input: the function and the generators as the first run found them.
struct Rerun : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> fn;
  RngSnapshot before;
};

struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, std::function<torch::Tensor(const torch::Tensor&)> fn) {
    auto rerun = c10::make_intrusive<Rerun>();
    rerun->before = RngSnapshot::take(x.device());
    rerun->fn = std::move(fn);
    ctx->save_for_backward({x});
    torch::Tensor y = rerun->fn(x);  // autograd is off in a Function's forward: nothing of it is kept
    ctx->saved_data["rerun"] = at::IValue::make_capsule(rerun);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const auto rerun = c10::static_intrusive_pointer_cast<Rerun>(ctx->saved_data["rerun"].toCapsule());
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    // The random numbers of the first run (dropout masks), then the generators as the backward found them.
    const RngSnapshot now = RngSnapshot::take(rerun->before.device);
    rerun->before.restore();
    torch::Tensor y;
    {
      torch::AutoGradMode grad(true);
      y = rerun->fn(x);
    }
    now.restore();
    torch::autograd::backward({y}, {grad_output[0]});  // into x.grad and the leaves fn read (the adapters)
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return fn(x);
  // An input without gradient (the frozen embeddings' output) still needs a node in the graph: the adapters inside train.
  return Checkpoint::apply(x.requires_grad() ? x : x.detach().requires_grad_(true), fn);
}

}  // namespace imsm
