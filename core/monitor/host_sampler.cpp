#include "monitor/host_sampler.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "util/process.h"

namespace imsm {

namespace {

// utime + stime of this process, seconds: fields 14 and 15 of /proc/self/stat, after the ")" that ends the command name.
double process_cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));  // field 3 (state) onwards
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

HostSampler::HostSampler() : last_cpu_seconds_(process_cpu_seconds()), last_(std::chrono::steady_clock::now()) {}

void HostSampler::sample(ResourceSample& out) {
  const auto now = std::chrono::steady_clock::now();
  const double cpu = process_cpu_seconds();
  const double wall = std::chrono::duration<double>(now - last_).count();
  out.cpu_percent = wall >= 0.1 ? 100.0 * (cpu - last_cpu_seconds_) / wall : 0;  // clock ticks are 10 ms: a shorter span says nothing
  last_cpu_seconds_ = cpu;
  last_ = now;
  out.rss_bytes = resident_bytes();
  const HostMemory memory = host_memory();
  out.host_total_bytes = memory.total_bytes;
  out.host_used_bytes = memory.total_bytes >= 0 && memory.available_bytes >= 0 ? memory.total_bytes - memory.available_bytes : -1;
}

}  // namespace imsm
