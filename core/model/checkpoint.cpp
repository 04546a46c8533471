#include "model/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace imsm {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the backward needs besides the input: the function and the generators' states before the first run.
struct Rerun : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> fn;
  torch::Tensor cpu_state, cuda_state;  // [n] uint8; cuda_state undefined off CUDA
  torch::Device device = torch::kCPU;
};

at::Generator cuda_generator(torch::Device device) { return at::globalContext().defaultGenerator(device); }

torch::Tensor state_of(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_state(at::Generator gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

struct Checkpoint : public torch::autograd::Function<Checkpoint> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, std::function<torch::Tensor(const torch::Tensor&)> fn) {
    auto rerun = c10::make_intrusive<Rerun>();
    rerun->device = x.device();
    rerun->cpu_state = state_of(at::detail::getDefaultCPUGenerator());
    if (x.is_cuda()) rerun->cuda_state = state_of(cuda_generator(x.device()));
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
    const at::Generator cpu = at::detail::getDefaultCPUGenerator();
    const torch::Tensor cpu_now = state_of(cpu);
    torch::Tensor cuda_now;
    set_state(cpu, rerun->cpu_state);
    if (rerun->cuda_state.defined()) {
      cuda_now = state_of(cuda_generator(rerun->device));
      set_state(cuda_generator(rerun->device), rerun->cuda_state);
    }
    torch::Tensor y;
    {
      torch::AutoGradMode grad(true);
      y = rerun->fn(x);
    }
    set_state(cpu, cpu_now);
    if (cuda_now.defined()) set_state(cuda_generator(rerun->device), cuda_now);
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
