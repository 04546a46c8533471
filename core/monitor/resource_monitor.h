// The resource monitor: a thread that takes a ResourceSample about once a
// second (the host's /proc and NVML by default; tests inject their own
// sampler) and keeps them under a mutex for readers on other threads — the
// window's timer draws them, the run recorder writes them to the workspace.
// Stopping (the destructor) wakes the thread at once and joins it. Torch-free.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "monitor/resource_sample.h"

namespace imsm {

using ResourceSampler = std::function<ResourceSample()>;  // fills everything but `seconds`

// The process and host from /proc, the GPUs through NVML (opened on the first call, on the calling thread).
ResourceSampler system_sampler();

class ResourceMonitor {
 public:
  static constexpr size_t kMaxSamples = 24 * 3600;  // a day at 1 Hz; the oldest go first

  // after_sample: called on the monitor's thread after each sample (e.g. to write them somewhere).
  explicit ResourceMonitor(ResourceSampler sampler = system_sampler(),
                           std::chrono::milliseconds interval = std::chrono::milliseconds(1000),
                           std::function<void()> after_sample = {});
  ~ResourceMonitor();  // stop()
  void stop();         // wakes the thread and joins it; the samples stay readable
  ResourceMonitor(const ResourceMonitor&) = delete;
  ResourceMonitor& operator=(const ResourceMonitor&) = delete;

  std::vector<ResourceSample> recent(double seconds) const;  // those of the last `seconds` before the newest, oldest first
  std::vector<ResourceSample> take_unrecorded();     // the samples since the previous call
  uint64_t version() const;                          // changes with each sample

 private:
  void loop();

  ResourceSampler sampler_;
  std::chrono::milliseconds interval_;
  std::function<void()> after_sample_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<ResourceSample> history_;
  size_t unrecorded_ = 0;  // samples at the end of history_ not yet taken
  uint64_t version_ = 0;
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace imsm
