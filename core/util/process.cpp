#include "util/process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <sstream>

namespace imsm {

namespace {
// Field 22 of /proc/PID/stat (starttime); the command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
std::string start_time_of(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return "";
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    if (i == 22) return field;
  return "";
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}
}  // namespace

ProcessIdentity current_process() {
  ProcessIdentity p;
  p.host = host_name();
  p.pid = static_cast<int64_t>(getpid());
  p.start = start_time_of(p.pid);
  return p;
}

bool process_alive(const ProcessIdentity& p) {
  if (p.pid <= 0) return false;
  if (kill(static_cast<pid_t>(p.pid), 0) != 0 && errno == ESRCH) return false;
  if (p.start.empty()) return true;  // no /proc: the pid alone
  return start_time_of(p.pid) == p.start;
}

namespace {
int64_t status_kib(const std::string& key) {  // "VmRSS:" -> its value in /proc/self/status
  std::ifstream in("/proc/self/status");
  std::string name;
  while (in >> name) {
    if (name == key) {
      int64_t kib = -1;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}
}  // namespace

int64_t resident_bytes() {
  const int64_t kib = status_kib("VmRSS:");
  return kib < 0 ? -1 : kib * 1024;
}

int64_t peak_resident_bytes() {
  const int64_t kib = status_kib("VmHWM:");
  return kib < 0 ? -1 : kib * 1024;
}

HostMemory host_memory() {
  std::ifstream in("/proc/meminfo");
  HostMemory m;
  std::string key;
  int64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") m.total_bytes = kib * 1024;
    if (key == "MemAvailable:") m.available_bytes = kib * 1024;
    in.ignore(1 << 12, '\n');  // the unit, "kB"
  }
  return m;
}

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace imsm
