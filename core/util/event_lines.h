// The run protocol (util/run_protocol.h) as JSON lines, for a program that
// drives the engine in other processes — the workbench starting `imsm` under
// torchrun. `imsm --events ...` writes one line per step, progress and event
// on stdout (rank 0 only); the driver passes each line it reads back into its
// own Hooks. One line, one JSON object with "type":
//   {"type":"step","step":3,"total_steps":40,"epoch":1,"loss":2.31,...}
//   {"type":"progress","stage":"train","done":2,"total":8,"detail":"...","eta_seconds":12.5}
//   {"type":"run_created","run_id":7}   {"type":"checkpoint","path":"...","step":20}
//   {"type":"validation","step":20,"epoch":0,"benchmark":"held-out","metric":"Loss","value":1.25}
//   {"type":"best_adapter","path":"...","step":20}
#pragma once
#include <ostream>
#include <string>

#include "util/run_protocol.h"

namespace imsm {

std::string event_line(const StepRecord& step);
std::string event_line(const Progress& progress);
std::string event_line(const RunEvent& event);

// `hooks`, each of whose callbacks also writes its line to `out` (flushed:
// the reader sees every step as it happens).
Hooks with_event_lines(Hooks hooks, std::ostream& out);

// Passes an event line into `hooks`; false for a line that is not one (the
// driver shows those as they are). BadInput for a line that starts like one
// but does not parse.
bool dispatch_event_line(const std::string& line, const Hooks& hooks);

}  // namespace imsm
