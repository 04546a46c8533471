// Each NVIDIA GPU's utilisation, memory, temperature and power through NVML,
// the driver's management library, opened at run time (dlopen of
// libnvidia-ml.so.1): the engine builds and runs without the driver, and a
// machine without one says so instead of failing. Torch-free; one thread at a time.
#pragma once
#include <string>
#include <vector>

#include "monitor/resource_sample.h"

namespace imsm {

class NvmlSampler {
 public:
  NvmlSampler();  // loads and initialises NVML; problem() says why not
  ~NvmlSampler();
  NvmlSampler(const NvmlSampler&) = delete;
  NvmlSampler& operator=(const NvmlSampler&) = delete;

  bool available() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }  // "libnvidia-ml.so.1 not found: no NVIDIA driver on this machine"
  // Fills out.gpus, or out.gpu_problem (NVML's error, e.g. a GPU that fell off the bus) and no GPUs.
  void sample(ResourceSample& out);

 private:
  struct Api;
  Api* api_ = nullptr;
  void* library_ = nullptr;
  std::string problem_;
};

}  // namespace imsm
