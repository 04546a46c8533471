// Recipes: an evaluation recorded in a workspace (scores, predictions, gate
// traces), and a benchmark suite evaluated for the base model and each
// adapter — the forgetting table of the paper's Tables 2 and 3.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/suite.h"
#include "recipes/eval.h"

namespace imsm {

struct RecordedEval {
  int64_t run_id = 0;
  EvalResult result;
};

// One dataset: a run of kind eval (its parent: the training run that wrote the
// adapter, when the workspace knows it), queued -> running -> finished | failed.
RecordedEval run_eval_recorded(const std::string& workspace, const EvalRequest& request, const Hooks& hooks = {});

struct SuiteRequest {
  std::string suite;                  // suite file
  std::string model_dir;
  std::vector<std::string> adapters;  // each: a PEFT or IMSM adapter folder
  std::string workspace;              // "" = do not record
  std::string device = "cpu", dtype = "auto";
  bool full_gate = false;
};

struct SuiteResult {
  Suite suite;
  SubjectScores base;
  std::vector<SubjectScores> subjects;  // one per adapter
  std::vector<int64_t> run_ids;         // base first; empty without a workspace
  Table table;                          // forgetting_table(...)
};

// Every benchmark for the base model, then for each adapter. Progress stages
// read "SUBJECT: BENCHMARK".
SuiteResult run_suite(const SuiteRequest& request, const Hooks& hooks = {});

}  // namespace imsm
