// Ctrl-C for long commands: while a SigintScope lives, SIGINT only raises a
// flag that the engine's abort callback reads (the run stops after its current
// step and saves what it can); the default handler comes back afterwards.
// Also warns once when the reference BLAS is in use.
#pragma once

namespace imsm::cli {

class SigintScope {
 public:
  SigintScope();
  ~SigintScope();
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;
  static bool requested();
};

}  // namespace imsm::cli
