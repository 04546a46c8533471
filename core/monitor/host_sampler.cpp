#include "monitor/host_sampler.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

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

int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  long long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// MemTotal and MemAvailable (kB in the file), bytes.
void host_memory(int64_t& used, int64_t& total) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long long kb = 0, available = 0;
  total = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") total = kb * 1024;
    if (key == "MemAvailable:") available = kb * 1024;
    in.ignore(64, '\n');
  }
  used = total - available;
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
  host_memory(out.host_used_bytes, out.host_total_bytes);
}

}  // namespace imsm
