#include "model/cuda_device.h"

#include <torch/torch.h>

#ifdef IMSM_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace imsm {
namespace {

// "KEY=value, " in LibTorch's build summary (torch::show_config()).
std::string build_setting(const std::string& key) {
  const std::string config = torch::show_config();
  const auto at = config.find(key + "=");
  if (at == std::string::npos) return "";
  const auto begin = at + key.size() + 1;
  return config.substr(begin, config.find_first_of(",\n", begin) - begin);
}

}  // namespace

#ifdef IMSM_WITH_CUDA

bool cuda_compiled() { return true; }
std::string cuda_runtime_version() { return build_setting("CUDA_VERSION"); }
std::string cudnn_version() { return build_setting("CUDNN_VERSION"); }
int cuda_device_count() { return static_cast<int>(c10::cuda::device_count()); }

std::vector<CudaDevice> cuda_devices(bool with_free_memory) {
  std::vector<CudaDevice> out;
  for (int i = 0; i < cuda_device_count(); ++i) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
    CudaDevice d;
    d.index = i;
    d.name = p->name;
    d.major = p->major;
    d.minor = p->minor;
    d.total_bytes = static_cast<int64_t>(p->totalGlobalMem);
    if (with_free_memory) {
      c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(i));
      size_t free = 0, total = 0;
      if (cudaMemGetInfo(&free, &total) == cudaSuccess) d.free_bytes = static_cast<int64_t>(free);
    }
    out.push_back(d);
  }
  return out;
}

int64_t cuda_peak_allocated_bytes(int index) {
  if (index < 0 || index >= cuda_device_count()) return -1;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

#else  // LibTorch without CUDA (a CPU-only build chosen with IMSM_TORCH_FROM_VENV=OFF)

bool cuda_compiled() { return false; }
std::string cuda_runtime_version() { return ""; }
std::string cudnn_version() { return ""; }
int cuda_device_count() { return 0; }
std::vector<CudaDevice> cuda_devices(bool) { return {}; }
int64_t cuda_peak_allocated_bytes(int) { return -1; }

#endif

}  // namespace imsm
