// What to open for generation, evaluation or inspection: a base model, an
// optional adapter, and the device and dtype to run on (recipes/loaded_model.h
// opens it). Torch-free.
#pragma once
#include <string>

namespace imsm {

struct ModelSource {
  std::string model_dir;
  std::string adapter_dir;     // "" or a PEFT adapter folder; with imsm_config.json an IMSM adapter
  std::string device = "cpu";  // cpu | cuda | cuda:N
  std::string dtype = "auto";  // auto | f32 | bf16 | f16 (auto: f32 on CPU, the checkpoint's on CUDA)
  bool operator==(const ModelSource&) const = default;
};

}  // namespace imsm
