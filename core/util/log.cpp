#include "util/log.h"

#include <atomic>
#include <cstdio>

namespace imsm::log {
namespace {
std::atomic<int>& current() {
  static std::atomic<int> value{static_cast<int>(Level::Info)};
  return value;
}
void emit(Level at, const char* tag, const std::string& message) {
  if (static_cast<int>(at) > current().load()) return;
  std::fprintf(stderr, "%s%s\n", tag, message.c_str());
}
}  // namespace

void set_level(Level level) { current().store(static_cast<int>(level)); }
Level level() { return static_cast<Level>(current().load()); }
void warn(const std::string& message) { emit(Level::Warn, "warning: ", message); }
void info(const std::string& message) { emit(Level::Info, "", message); }
void debug(const std::string& message) { emit(Level::Debug, "debug: ", message); }

}  // namespace imsm::log
