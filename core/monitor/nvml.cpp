#include "monitor/nvml.h"

#include <dlfcn.h>

#include <string>

namespace imsm {

namespace {

// The few NVML entry points used, declared as the NVML API reference gives
// them (nvml.h of the CUDA toolkit; stable C ABI, the _v2 names since driver 418).
using nvmlReturn_t = int;  // NVML_SUCCESS = 0
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent of the last sample period
};
struct nvmlMemory_t {
  unsigned long long total, free, used;  // bytes
};
constexpr int kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU

}  // namespace

struct NvmlSampler::Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  const char* (*error_string)(nvmlReturn_t);
  nvmlReturn_t (*device_count)(unsigned int*);
  nvmlReturn_t (*handle_by_index)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned int*);
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*);  // milliwatts

  std::string error(nvmlReturn_t r) const { return error_string ? error_string(r) : "NVML error " + std::to_string(r); }
};

namespace {
template <typename F>
bool bind(void* library, const char* symbol, F& f) {
  f = reinterpret_cast<F>(dlsym(library, symbol));
  return f != nullptr;
}
}  // namespace

NvmlSampler::NvmlSampler() {
  library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library_) {
    problem_ = "libnvidia-ml.so.1 not found: no NVIDIA driver on this machine";
    return;
  }
  auto* a = new Api{};
  const bool bound = bind(library_, "nvmlInit_v2", a->init) && bind(library_, "nvmlShutdown", a->shutdown) &&
                     bind(library_, "nvmlErrorString", a->error_string) && bind(library_, "nvmlDeviceGetCount_v2", a->device_count) &&
                     bind(library_, "nvmlDeviceGetHandleByIndex_v2", a->handle_by_index) && bind(library_, "nvmlDeviceGetName", a->name) &&
                     bind(library_, "nvmlDeviceGetUtilizationRates", a->utilization) && bind(library_, "nvmlDeviceGetMemoryInfo", a->memory) &&
                     bind(library_, "nvmlDeviceGetTemperature", a->temperature) && bind(library_, "nvmlDeviceGetPowerUsage", a->power);
  if (!bound) {
    problem_ = "libnvidia-ml.so.1 lacks an NVML function this monitor uses (a driver older than 418?)";
    delete a;
    return;
  }
  if (const nvmlReturn_t r = a->init(); r != 0) {
    problem_ = "NVML did not start: " + a->error(r);
    delete a;
    return;
  }
  api_ = a;
}

NvmlSampler::~NvmlSampler() {
  if (api_) api_->shutdown();
  delete api_;
  if (library_) dlclose(library_);
}

void NvmlSampler::sample(ResourceSample& out) {
  out.gpus.clear();
  if (!api_) {
    out.gpu_problem = problem_;
    return;
  }
  unsigned int count = 0;
  if (const nvmlReturn_t r = api_->device_count(&count); r != 0) {
    out.gpu_problem = "NVML: " + api_->error(r);
    return;
  }
  if (count == 0) out.gpu_problem = "NVML sees no GPU";
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t device = nullptr;
    nvmlUtilization_t utilization{};
    nvmlMemory_t memory{};
    nvmlReturn_t r = api_->handle_by_index(i, &device);
    if (r == 0) r = api_->utilization(device, &utilization);
    if (r == 0) r = api_->memory(device, &memory);
    if (r != 0) {  // a GPU that fell off the bus, a reset: no reading this time
      out.gpus.clear();
      out.gpu_problem = "NVML, GPU " + std::to_string(i) + ": " + api_->error(r);
      return;
    }
    GpuSample g;
    g.index = static_cast<int>(i);
    char name[96] = {};
    if (api_->name(device, name, sizeof name) == 0) g.name = name;
    g.utilization_percent = utilization.gpu;
    g.memory_used_bytes = static_cast<int64_t>(memory.used);
    g.memory_total_bytes = static_cast<int64_t>(memory.total);
    unsigned int celsius = 0, milliwatts = 0;
    if (api_->temperature(device, kNvmlTemperatureGpu, &celsius) == 0) g.temperature_c = celsius;
    if (api_->power(device, &milliwatts) == 0) g.power_w = milliwatts / 1000.0;
    out.gpus.push_back(std::move(g));
  }
}

}  // namespace imsm
