// Recipe: evaluate training runs of a workspace — their adapters, and the
// base models they were trained from — on a benchmark suite or on one
// dataset, and record every evaluation in the workspace. What the workbench's
// Evaluate dialog queues and `imsm eval --run ID` runs. Each run's adapter,
// base model and training lengths come from the workspace; runs of different
// base models become one suite each. Torch-free header.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recipes/eval.h"
#include "recipes/eval_record.h"

namespace imsm {

struct RunsEvalRequest {
  std::string workspace;
  std::vector<int64_t> run_ids;  // finished training runs
  std::string suite;             // a suite file, or
  std::string dataset, task;     // one JSON-lines dataset and its task (eval/metrics.h official_tasks)
  bool base = true;              // dataset: also each base model (a suite always has it: changes are measured from it)
  int64_t limit = 0;             // dataset: the first N examples (0: all)
  int64_t max_input_length = 0;  // dataset: 0 = the first run's training lengths (max_input_length,
  int64_t max_new_tokens = 0;    //   max_output_length), else 512 / 64
  DeviceSpec device;
  Precision dtype = Precision::Auto;
  bool full_gate = true;  // keep each token's whole gate vector (the gate views draw it)
  bool reuse = true;      // suite: read back evaluations the workspace holds for the same files and settings
};

// What the request will evaluate, checked before any work starts: one suite
// request per base model (in the order of the runs), or the dataset
// evaluations (each base model first when `base`, then each run). BadInput
// naming the run that is not a finished training run, whose adapter folder
// or base model is gone, or the key that is missing.
struct RunsEvalPlan {
  std::vector<SuiteRequest> suites;
  std::vector<EvalRequest> evals;
  std::vector<std::string> labels;  // per eval: "base MODEL" or "run N"
  size_t subjects() const;  // models evaluated (reused ones included)
};
RunsEvalPlan plan_runs_eval(const RunsEvalRequest& request);

struct RunsEvalResult {
  std::vector<int64_t> eval_run_ids;  // the workspace's evaluation runs, new and reused
  std::vector<SuiteResult> suites;    // suite mode: one per base model
  std::vector<std::string> labels;    // dataset mode: per evaluation, "base MODEL" or "run N" (the plan's)
  std::vector<std::map<std::string, double>> scores;  // dataset mode: per evaluation, its metrics
  std::string summary;                // one line for people: "3 evaluations (1 reused) of suite quickstart"
};

// Progress stages read "SUBJECT: BENCHMARK"; cancel through hooks.should_abort.
RunsEvalResult run_runs_eval(const RunsEvalRequest& request, const Hooks& hooks = {});

}  // namespace imsm
