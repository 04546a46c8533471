// Progress and abort hooks of the engine API (the CLI's progress bar and the
// GUI's Cancel button hang on them).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace imsm {

struct Progress {
  std::string stage;   // "loading", "generating", ...
  int64_t done = 0;
  int64_t total = 0;   // 0 when unknown
};

struct Callbacks {
  std::function<void(const Progress&)> on_progress;  // may be empty
  std::function<bool()> should_abort;                // may be empty; true: stop with ErrorKind::Cancelled
};

}  // namespace imsm
