// Recipe: a training run recorded in a workspace — the run row (resolved
// config, seed, device, engine version, status), per-step metrics, the last
// checkpoint and the adapter's files. Also resumes an interrupted run.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "recipes/train.h"

namespace imsm {

struct RecordedTrain {
  int64_t run_id = 0;
  TrainSummary summary;
};

// A new run in `workspace` (created when missing), queued -> running -> its
// final status; a RunCreated event with its id before training starts, then
// run_train's hooks. Cancel marks the run cancelled (with the resume command)
// and an exception failed (with the message); both propagate.
RecordedTrain run_train_recorded(const std::string& workspace, const TrainConfig& config, const Hooks& hooks = {});

// Continues run `run_id` (interrupted, cancelled or failed) from its last
// checkpoint, in the same run row; its configuration comes from the workspace.
// Under torchrun, ranks other than 0 only read the workspace (rank 0 records).
RecordedTrain resume_train_run(const std::string& workspace, int64_t run_id, const Hooks& hooks = {});

// The processes a resume of run `run_id` needs: its last checkpoint's (a run
// trained under torchrun --nproc-per-node N resumes on N); 1 without one.
int processes_to_resume(const std::string& workspace, int64_t run_id);

}  // namespace imsm
