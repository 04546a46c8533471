#include "interrupt.h"

#include <atomic>
#include <csignal>

#include "recipes/environment.h"
#include "util/log.h"

namespace imsm::cli {

namespace {
// A signal handler can only reach process state, hence this one flag.
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

SigintScope::SigintScope() {
  const std::string warning = blas_warning_line();
  if (!warning.empty()) log::warn(warning);
  g_interrupted.store(false);
  std::signal(SIGINT, on_sigint);
}

SigintScope::~SigintScope() { std::signal(SIGINT, SIG_DFL); }

bool SigintScope::requested() { return g_interrupted.load(); }

}  // namespace imsm::cli
