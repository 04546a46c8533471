// The life of a workspace run around the work it records, the same for
// training and evaluation: running, then the end the work reports; when the
// work throws, cancelled (an Error of kind Cancelled) or failed, with the
// message, recorded before the exception goes on (util/run_protocol.h: one
// cancel rule). Nothing already committed to the workspace is lost. While
// the work runs, the machine's load is sampled about once a second and kept
// with the run (the process's CPU and memory, each GPU's through NVML).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "monitor/resource_monitor.h"
#include "util/run_protocol.h"

namespace imsm {

namespace store {
class Workspace;
}

struct RunEnd {
  RunStatus status = RunStatus::Finished;
  std::string message;  // for people; "" when there is nothing to say
};

struct RunLife {
  std::function<void()> before_end;  // runs before any end is recorded (e.g. write buffered step records)
  // The note of a cancelled run from the error's message (default: the message).
  std::function<std::string(const std::string& what)> cancelled_note;
  ResourceSampler resource_sampler;  // empty: the system's (monitor/resource_monitor.h); tests inject their own
};

// Marks run `run_id` running, runs `work`, and records how it ended. When
// recording a failure itself fails, that is logged and `work`'s exception
// goes on.
void record_run(store::Workspace& ws, int64_t run_id, const std::function<RunEnd()>& work, const RunLife& life = {});
// The same for runs that one piece of work serves together (an adapter
// evaluated along several mixes in one pass): all running, then all ending
// as the work ends.
void record_runs(store::Workspace& ws, const std::vector<int64_t>& run_ids, const std::function<RunEnd()>& work, const RunLife& life = {});

}  // namespace imsm
