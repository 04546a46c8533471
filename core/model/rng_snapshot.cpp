#include "model/rng_snapshot.h"

#include <mutex>

namespace imsm {

namespace {

torch::Tensor state_of(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();  // [n] uint8
}

void set_state(at::Generator gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

RngSnapshot RngSnapshot::take(torch::Device device) {
  RngSnapshot s;
  s.device = device;
  s.cpu = state_of(at::detail::getDefaultCPUGenerator());
  if (device.is_cuda()) s.cuda = state_of(at::globalContext().defaultGenerator(device));
  return s;
}

void RngSnapshot::restore() const {
  set_state(at::detail::getDefaultCPUGenerator(), cpu);
  if (cuda.defined()) set_state(at::globalContext().defaultGenerator(device), cuda);
}

}  // namespace imsm
