#include "interrupt.h"

#include <atomic>
#include <csignal>

#include "progress_bar.h"
#include "recipes/environment.h"
#include "util/error.h"
#include "util/log.h"
#include "util/run_protocol.h"

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

void run_with_progress(const std::string& label, const std::function<void(const Hooks& hooks)>& work) {
  SigintScope ctrl_c;
  ProgressBar bar(label);
  Hooks hooks;
  hooks.on_progress = [&](const Progress& p) { bar.update(p.done, p.total, p.eta_seconds, p.stage + " " + p.detail); };
  hooks.should_abort = [] { return SigintScope::requested(); };
  work(hooks);
}

int run_as_follower(const std::function<void(const Hooks& hooks)>& work) {
  log::set_level(log::Level::Warn);
  SigintScope ctrl_c;
  Hooks hooks;
  hooks.should_abort = [] { return SigintScope::requested(); };
  try {
    work(hooks);
    return 0;
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) throw;
    return 130;
  }
}

}  // namespace imsm::cli
