#include "recipes/run_life.h"

#include <exception>
#include <memory>

#include "monitor/resource_monitor.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm {

namespace {

// The machine's load while the run runs: the monitor's samples go to the
// workspace every 10 s from its thread (through a connection of its own) and
// the rest when the run ends. A write that fails loses samples, never the run.
class ResourceRecorder {
 public:
  ResourceRecorder(store::Workspace& ws, int64_t run_id, ResourceSampler sampler)
      : ws_(ws), run_id_(run_id), monitor_(std::move(sampler), std::chrono::milliseconds(1000), [this] { on_sample(); }) {}
  ~ResourceRecorder() {
    monitor_.stop();
    write(ws_);
  }

 private:
  void on_sample() {
    if (++samples_ % 10 != 0) return;
    try {
      if (!own_) own_ = std::make_unique<store::Workspace>(ws_.path());
    } catch (const std::exception& e) {
      log::debug(std::string("resource samples wait for the run's end: ") + e.what());
      return;
    }
    write(*own_);
  }
  void write(store::Workspace& ws) {
    try {
      ws.add_resource_samples(run_id_, monitor_.take_unrecorded());
    } catch (const std::exception& e) {
      log::warn("could not record the resource samples of run " + std::to_string(run_id_) + ": " + e.what());
    }
  }

  store::Workspace& ws_;
  int64_t run_id_;
  std::unique_ptr<store::Workspace> own_;  // the monitor thread's connection
  int samples_ = 0;
  ResourceMonitor monitor_;  // last: its thread stops before the members it uses go
};

}  // namespace

void record_run(store::Workspace& ws, int64_t run_id, const std::function<RunEnd()>& work, const RunLife& life) {
  ws.start_run(run_id);
  RunEnd end;
  ResourceRecorder resources(ws, run_id, life.resource_sampler ? life.resource_sampler : system_sampler());
  try {
    end = work();
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    const bool cancelled = error && error->kind() == ErrorKind::Cancelled;
    try {
      if (life.before_end) life.before_end();
      ws.finish_run(run_id, cancelled ? RunStatus::Cancelled : RunStatus::Failed,
                    cancelled && life.cancelled_note ? life.cancelled_note(e.what()) : e.what());
    } catch (const std::exception& inner) {
      log::warn("could not record how run " + std::to_string(run_id) + " ended in the workspace: " + inner.what());
    }
    throw;
  }
  if (life.before_end) life.before_end();
  ws.finish_run(run_id, end.status, end.message);
}

void record_runs(store::Workspace& ws, const std::vector<int64_t>& run_ids, const std::function<RunEnd()>& work, const RunLife& life) {
  if (run_ids.empty()) throw_internal("record_runs: no run");
  if (run_ids.size() == 1) return record_run(ws, run_ids.front(), work, life);
  // Each run's life wraps the next's: every one starts, and each records the end the work reports, or its error.
  RunEnd end;
  const std::vector<int64_t> rest(run_ids.begin() + 1, run_ids.end());
  record_run(ws, run_ids.front(), [&] {
    record_runs(ws, rest, [&] { return end = work(); }, life);
    return end;
  }, life);
}

}  // namespace imsm
