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
// Along α (request.mix_alphas): a run per α, its configuration's "mix_alpha"
// saying which, named "BENCHMARK ADAPTER α=A"; one pass over the data.
std::vector<RecordedEval> run_eval_recorded_mixes(const std::string& workspace, const EvalRequest& request, const Hooks& hooks = {});

struct SuiteRequest {
  std::string suite;                  // suite file
  std::string model_dir;
  std::vector<std::string> adapters;  // each: a PEFT or IMSM adapter folder
  std::string workspace;              // "" = do not record
  DeviceSpec device;
  Precision dtype = Precision::Auto;
  bool full_gate = false;
  std::string chat_template = "auto";  // the prompts' format: auto | on | off | a template file (recipes/chat_format.h)
  // Per subject (the base model first, then each adapter and its mixes): a finished
  // evaluation run to read back instead of evaluating again (0: evaluate);
  // empty: evaluate all. finished_suite_runs() finds them.
  std::vector<int64_t> reuse;
  // Each adapter of mix_adapters (empty: every adapter) also at these fixed mixes
  // h = α·h_M + (1 − α)·h_M' (WiSE-FT), a subject per α after the adapter's own,
  // all of an adapter's mixes in one pass per benchmark.
  std::vector<double> mix_alphas;
  std::vector<std::string> mix_adapters;
};

struct SuiteResult {
  Suite suite;
  SubjectScores base;
  std::vector<SubjectScores> subjects;  // one per adapter, and per adapter and α along mix_alphas
  std::vector<int64_t> run_ids;         // base first; empty without a workspace
  Table table;                          // forgetting_table(...)
};

// Every benchmark for the base model, then for each adapter. Progress stages
// read "SUBJECT: BENCHMARK".
SuiteResult run_suite(const SuiteRequest& request, const Hooks& hooks = {});

// Per subject of `request` (base first): the latest finished evaluation of
// its workspace with exactly this suite configuration, model and adapter, the
// adapter's current training run as parent, and every benchmark scored on a
// file whose content is the file's now; 0 where there is none. A project run
// again reuses these instead of adding copies of its evaluations.
std::vector<int64_t> finished_suite_runs(const SuiteRequest& request);

}  // namespace imsm
