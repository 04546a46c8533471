// Recipe: an experiment project (projects/*.json) end to end — generate its
// datasets, fine-tune every run of its matrix (methods × seeds), evaluate the
// base model and every adapter on its benchmark suite, record everything in
// the workspace and write the report. Runs already finished in the workspace
// with the same configuration are reused, so an interrupted project continues.
// The project file and its plan: config/project_plan.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "config/project_plan.h"
#include "util/run_protocol.h"

namespace imsm {

struct ProjectSummary {
  std::string workspace, report;        // paths written
  std::vector<int64_t> train_run_ids, eval_run_ids;
  int64_t reused_runs = 0;         // training runs the workspace had finished
  int64_t reused_evaluations = 0;  // evaluations it had finished (same suite, adapter, files)
  double seconds = 0;
};

// Progress stages "data", "train" (done/total in thousandths of a run over the
// matrix; detail "IMSM(LoRA) seed 2 (3/12) step 40/100 loss 1.234"), "eval",
// "report"; each training run's RunCreated event and StepRecords pass through.
ProjectSummary run_project(const std::string& project_path, const Hooks& hooks = {});

}  // namespace imsm
