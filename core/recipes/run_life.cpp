#include "recipes/run_life.h"

#include <exception>

#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm {

void record_run(store::Workspace& ws, int64_t run_id, const std::function<RunEnd()>& work, const RunLife& life) {
  ws.start_run(run_id);
  RunEnd end;
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

}  // namespace imsm
