// Ctrl-C for long commands: while a SigintScope lives, SIGINT only raises a
// flag that the engine's abort callback reads (the run stops after its current
// step and saves what it can); the default handler comes back afterwards.
// Also warns once when the reference BLAS is in use.
#pragma once
#include <functional>
#include <string>

namespace imsm {
struct Hooks;
}

namespace imsm::cli {

class SigintScope {
 public:
  SigintScope();
  ~SigintScope();
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;
  static bool requested();
};

// A torchrun rank other than 0: it works in step with rank 0, silently (only
// warnings and errors), and stops with the others on Ctrl-C (the ranks vote).
// Returns the exit code: 0, or 130 when cancelled.
int run_as_follower(const std::function<void(const Hooks& hooks)>& work);

// A command of stages (export, import-gguf): `work` runs with a progress bar
// named `label` showing each stage and Ctrl-C as its cancel.
void run_with_progress(const std::string& label, const std::function<void(const Hooks& hooks)>& work);

}  // namespace imsm::cli
