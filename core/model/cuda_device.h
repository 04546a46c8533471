// What the CUDA side of LibTorch offers this process: the engine's CUDA code
// path (compiled when LibTorch is a CUDA build, see cmake/TorchFromVenv.cmake),
// the devices it sees and their memory. Torch-free header.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imsm {

struct CudaDevice {
  int index = 0;
  std::string name;             // "NVIDIA H200"
  int major = 0, minor = 0;     // compute capability
  int64_t total_bytes = 0;      // device memory
  int64_t free_bytes = -1;      // free now (-1: not asked)
};

// True when the engine was built with its CUDA code path (LibTorch's CUDA
// libraries linked): whether or not a GPU is visible now.
bool cuda_compiled();
std::string cuda_runtime_version();  // the CUDA LibTorch was built with, "13.2"; "" without
std::string cudnn_version();         // "9.26.0"; "" without
int cuda_device_count();             // visible now; 0 without a GPU or without the CUDA path
// The visible devices; free memory filled in when `with_free_memory` (this
// creates a CUDA context on each device, ~300 MB each).
std::vector<CudaDevice> cuda_devices(bool with_free_memory);
// The most LibTorch's caching allocator has held allocated on device `index`
// since this process started, bytes; -1 without CUDA.
int64_t cuda_peak_allocated_bytes(int index);

}  // namespace imsm
