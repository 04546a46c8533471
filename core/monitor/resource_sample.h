// One reading of the machine's load, as the resource monitor takes it about
// once a second: the process's CPU and memory, the host's memory, and each
// NVIDIA GPU's utilisation, memory, temperature and power (NVML). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

struct GpuSample {
  int index = 0;
  std::string name;                            // "NVIDIA H200"
  double utilization_percent = 0;              // of the last sample period, kernels running
  int64_t memory_used_bytes = 0, memory_total_bytes = 0;
  double temperature_c = -1;                   // < 0: not reported
  double power_w = -1;                         // < 0: not reported
};

struct ResourceSample {
  double seconds = 0;                          // since the monitor started
  double cpu_percent = 0;                      // this process, 100 = one core busy
  int64_t rss_bytes = 0;                       // this process's resident memory
  int64_t host_used_bytes = 0, host_total_bytes = 0;  // the machine's (total − available)
  std::vector<GpuSample> gpus;                 // empty without NVML, or with no GPU
  std::string gpu_problem;                     // why there is no GPU reading ("" when there is)
};

}  // namespace imsm
