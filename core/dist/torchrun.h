// Starting the engine on several processes from a program (the workbench's
// worker): the venv's torchrun runs `imsm --events ARGS` on N processes of
// this machine; rank 0's event lines (util/event_lines.h) come back into the
// caller's Hooks as they happen. The cancel rule holds across the processes:
// when should_abort() says so, torchrun gets SIGINT and passes it to every
// rank; the ranks vote, stop at the same step, and rank 0 saves the checkpoint
// and records the run as cancelled. Torch-free, POSIX.
#pragma once
#include <string>
#include <vector>

#include "util/run_protocol.h"

namespace imsm::dist {

struct TorchrunJob {
  std::string torchrun;            // the venv's torchrun
  std::string imsm;                // the engine's executable
  int processes = 2;               // on this machine (--standalone, a free port)
  std::vector<std::string> args;   // imsm's: {"train", "--config", FILE, "--workspace", WS}
};

struct TorchrunOutcome {
  int exit_code = 0;       // imsm's: 0, 1 failed, 2 bad input, 130 cancelled
  bool cancelled = false;  // should_abort() asked for it
  std::string error;       // the ranks' "imsm: error: ..." line, else torchrun's last line on stderr; "" on success
};

// Blocks until every process has ended. BadInput when torchrun or imsm is
// not there (naming the path and what to run).
TorchrunOutcome run_torchrun(const TorchrunJob& job, const Hooks& hooks);

// The venv's torchrun: $IMSM_TORCHRUN when set, else `fallback` (the build's).
std::string torchrun_path(const std::string& fallback);

}  // namespace imsm::dist
