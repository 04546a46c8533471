// What to open for generation, evaluation or inspection: a base model, an
// optional adapter, and the device and dtype to run on (recipes/loaded_model.h
// opens it). Torch-free.
#pragma once
#include <string>

#include "model/device_spec.h"

namespace imsm {

struct ModelSource {
  std::string model_dir;
  std::string adapter_dir;     // "" or a PEFT adapter folder; with imsm_config.json an IMSM adapter
  DeviceSpec device;                  // cpu | cuda | cuda:N
  Precision dtype = Precision::Auto;  // auto: auto_precision (model/device_spec.h)
  bool operator==(const ModelSource&) const = default;
};

}  // namespace imsm
