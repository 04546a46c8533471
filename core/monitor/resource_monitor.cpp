#include "monitor/resource_monitor.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "monitor/host_sampler.h"
#include "monitor/nvml.h"

namespace imsm {

ResourceSampler system_sampler() {
  auto host = std::make_shared<HostSampler>();
  auto nvml = std::make_shared<std::unique_ptr<NvmlSampler>>();
  return [host, nvml] {
    ResourceSample s;
    host->sample(s);
    if (!*nvml) *nvml = std::make_unique<NvmlSampler>();
    (*nvml)->sample(s);
    return s;
  };
}

ResourceMonitor::ResourceMonitor(ResourceSampler sampler, std::chrono::milliseconds interval, std::function<void()> after_sample)
    : sampler_(std::move(sampler)), interval_(interval), after_sample_(std::move(after_sample)), thread_([this] { loop(); }) {}

ResourceMonitor::~ResourceMonitor() { stop(); }

void ResourceMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ResourceMonitor::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    ResourceSample s;
    try {
      s = sampler_();
    } catch (const std::exception& e) {  // a reading that failed is a gap, never the end of the run
      s.gpu_problem = e.what();
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    lock.lock();
    if (history_.size() == kMaxSamples) {
      history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(kMaxSamples / 10));
      unrecorded_ = std::min(unrecorded_, history_.size());
    }
    history_.push_back(std::move(s));
    ++unrecorded_;
    ++version_;
    if (after_sample_) {
      lock.unlock();
      after_sample_();
      lock.lock();
    }
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

std::vector<ResourceSample> ResourceMonitor::recent(double seconds) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (history_.empty()) return {};
  const double from = history_.back().seconds - seconds;
  const auto first = std::lower_bound(history_.begin(), history_.end(), from, [](const ResourceSample& s, double t) { return s.seconds < t; });
  return {first, history_.end()};
}

std::vector<ResourceSample> ResourceMonitor::take_unrecorded() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ResourceSample> out(history_.end() - static_cast<std::ptrdiff_t>(unrecorded_), history_.end());
  unrecorded_ = 0;
  return out;
}

uint64_t ResourceMonitor::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

}  // namespace imsm
