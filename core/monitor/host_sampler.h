// The process's CPU use and memory and the host's memory, from Linux's /proc:
// CPU as the change of utime + stime (/proc/self/stat) over the wall time
// between two readings; resident memory (VmRSS) and the host's (MemTotal −
// MemAvailable) as util/process.h reads them. Torch-free.
#pragma once
#include <chrono>
#include <cstdint>

#include "monitor/resource_sample.h"

namespace imsm {

class HostSampler {
 public:
  HostSampler();
  // Fills cpu_percent (since the previous call; 0 on the first), rss_bytes and the host's memory.
  void sample(ResourceSample& out);

 private:
  double last_cpu_seconds_ = 0;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace imsm
