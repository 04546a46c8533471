// The writes fuzz_workspace makes to a workspace it opened for writing: a
// training run created, one metrics row, the run finished as failed. Shared
// with the unit test that replays the target's findings (test_store.cpp), so
// the test makes exactly the writes that found them.
#pragma once
#include <cstdint>

#include "store/workspace.h"

namespace imsm::fuzz {

inline int64_t write_a_failed_run(store::Workspace& ws) {
  store::NewRun run;
  run.kind = "train";
  run.name = "fuzz";
  run.config_json = "{}";
  const int64_t id = ws.create_run(run);
  ws.add_train_metrics(id, {StepRecord{}});
  ws.finish_run(id, RunStatus::Failed, "fuzz");
  return id;
}

}  // namespace imsm::fuzz
