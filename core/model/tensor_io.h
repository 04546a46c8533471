// Between safetensors views and LibTorch tensors.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace imsm {

// A tensor on `device` in `dtype`. When no conversion or copy is needed (CPU,
// same dtype, aligned) the tensor aliases the mapped file, which it keeps alive.
torch::Tensor to_tensor(const TensorView& view, std::shared_ptr<const MappedFile> mapping, torch::Device device,
                        torch::ScalarType dtype);

// Writes named tensors (any device; F32/F16/BF16) to a safetensors file.
void save_tensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace imsm
