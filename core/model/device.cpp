#include "model/device.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "model/cuda_device.h"
#include "util/error.h"

namespace imsm {

torch::Device parse_device(const std::string& text) { return torch_device(parse_device_spec(text, "device", "--device")); }

torch::Device torch_device(const DeviceSpec& device) {
  if (!device.cuda) return torch::Device(torch::kCPU);
  const std::string text = device.text();
  const std::optional<int> index = device.cuda_index();
  if (!torch::cuda::is_available())
    throw_bad_input("--device", "\"" + text + "\" asked for, but this LibTorch build sees no CUDA device; use --device cpu");
  if (*index >= static_cast<int>(torch::cuda::device_count()))
    throw_bad_input("--device", "\"" + text + "\": only " + std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(*index));
}

torch::ScalarType parse_dtype(const std::string& text, torch::ScalarType fallback) {
  return scalar_type(precisions().parse(text, "dtype", "--dtype"), fallback);
}

torch::ScalarType scalar_type(Precision precision, torch::ScalarType fallback) {
  switch (precision) {
    case Precision::Auto: return fallback;
    case Precision::F32: return torch::kFloat32;
    case Precision::BF16: return torch::kBFloat16;
    case Precision::F16: return torch::kFloat16;
  }
  return fallback;
}

std::string dtype_label(torch::ScalarType dtype) {
  if (dtype == torch::kFloat32) return "f32";
  if (dtype == torch::kBFloat16) return "bf16";
  if (dtype == torch::kFloat16) return "f16";
  return c10::toString(dtype);
}



bool dtype_supported(torch::Device device, torch::ScalarType dtype) {
#if TORCH_VERSION_MAJOR < 2
  if (device.is_cpu() && dtype == torch::kFloat16) return false;
#endif
  return true;
}

void check_dtype_supported(torch::Device device, torch::ScalarType dtype) {
  if (!dtype_supported(device, dtype))
    throw_bad_input("--dtype", "f16 on CPU needs LibTorch 2 or newer (this is " + std::string(TORCH_VERSION) +
                                   "); use --dtype bf16 or f32, or a CUDA device");
}

AutocastScope::AutocastScope(torch::Device device, torch::ScalarType model_dtype) {
  if (!device.is_cuda() || (model_dtype != torch::kBFloat16 && model_dtype != torch::kFloat16)) return;
  active_ = true;
  was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
  was_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
  at::autocast::set_autocast_dtype(at::kCUDA, model_dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();  // casts of the fp32 weights
  at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
  at::autocast::set_autocast_dtype(at::kCUDA, was_dtype_);
}

}  // namespace imsm
