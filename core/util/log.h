// Human-facing messages on stderr (stdout is kept for machine output).
#pragma once
#include <string>

namespace imsm::log {

enum class Level { Quiet = 0, Warn = 1, Info = 2, Debug = 3 };

// The level is per process, set once by the executable at start-up.
void set_level(Level level);
Level level();

void warn(const std::string& message);
void info(const std::string& message);
void debug(const std::string& message);

}  // namespace imsm::log
