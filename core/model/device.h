// --device and --dtype strings -> LibTorch device and dtype.
#pragma once
#include <torch/torch.h>

#include <string>

#include "model/device_spec.h"

namespace imsm {

// The device of a setting. BadInput when it is CUDA and this LibTorch sees no such device.
torch::Device torch_device(const DeviceSpec& device);
// "cpu", "cuda", "cuda:N" (a flag's text). BadInput when malformed or when CUDA is absent.
torch::Device parse_device(const std::string& text);
// "f32" | "float32", "bf16" | "bfloat16", "f16" | "float16"; "auto" -> `fallback`.
torch::ScalarType parse_dtype(const std::string& text, torch::ScalarType fallback = torch::kFloat32);
// A precision setting's dtype; auto is `fallback`.
torch::ScalarType scalar_type(Precision precision, torch::ScalarType fallback = torch::kFloat32);
std::string dtype_label(torch::ScalarType dtype);  // "f32", "bf16", "f16"
// BadInput when this LibTorch cannot compute in `dtype` on `device`
// (LibTorch 1.x has no f16 matmul on CPU).
void check_dtype_supported(torch::Device device, torch::ScalarType dtype);
bool dtype_supported(torch::Device device, torch::ScalarType dtype);

// Autocast of CUDA matmuls to the model's dtype for the scope's life: on only
// for a CUDA device with a bf16 or f16 model (adapters and the IMSM gate keep
// fp32 weights; their matmuls then run in the model's dtype, gradients reach
// the fp32 weights). Restores the previous setting.
class AutocastScope {
 public:
  AutocastScope(torch::Device device, torch::ScalarType model_dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  torch::ScalarType was_dtype_ = torch::kBFloat16;
};

}  // namespace imsm
