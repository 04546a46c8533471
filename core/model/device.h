// --device and --dtype strings -> LibTorch device and dtype.
#pragma once
#include <torch/torch.h>

#include <string>

namespace imsm {

// "cpu", "cuda", "cuda:N". BadInput when malformed or when CUDA is absent.
torch::Device parse_device(const std::string& text);
// "f32" | "float32", "bf16" | "bfloat16", "f16" | "float16"; "auto" -> `fallback`.
torch::ScalarType parse_dtype(const std::string& text, torch::ScalarType fallback = torch::kFloat32);
std::string dtype_label(torch::ScalarType dtype);  // "f32", "bf16", "f16"
// BadInput when this LibTorch cannot compute in `dtype` on `device`
// (LibTorch 1.x has no f16 matmul on CPU).
void check_dtype_supported(torch::Device device, torch::ScalarType dtype);
bool dtype_supported(torch::Device device, torch::ScalarType dtype);

}  // namespace imsm
