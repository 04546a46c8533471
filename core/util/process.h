// Who is running: enough to tell later whether the process that marked a run
// "running" is still alive (pid + its start time, so a reused pid is not
// mistaken for the original process).
#pragma once
#include <cstdint>
#include <string>

namespace imsm {

struct ProcessIdentity {
  std::string host;
  int64_t pid = 0;
  std::string start;  // the process's start time in clock ticks since boot ("" where unknown)
};

ProcessIdentity current_process();
// False when no process with this pid and start time runs on this host.
bool process_alive(const ProcessIdentity& p);
// This process's resident memory now (VmRSS) and at its peak so far (VmHWM),
// in bytes; -1 where /proc does not say.
int64_t resident_bytes();
int64_t peak_resident_bytes();
// The machine's memory: MemTotal and MemAvailable of /proc/meminfo, in bytes; -1 where /proc does not say.
struct HostMemory {
  int64_t total_bytes = -1, available_bytes = -1;
};
HostMemory host_memory();
// "2026-11-27T17:05:00Z"
std::string utc_now_iso8601();

}  // namespace imsm
