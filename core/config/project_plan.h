// An experiment project's file, read, checked and resolved into its plan:
// datasets to make, the benchmark suite, the run matrix (methods × seeds).
// Torch-free: the workbench's presets, the fuzzers and run_project read it.
//
// Project file (paths relative to it):
// {"name": "quickstart", "model": "../resources/models/wordnet-base",
//  "workspace": "../runs/quickstart/workspace.imsm", "output_dir": "../runs/quickstart",
//  "data": {"arith-train": {"task": "arith", "count": 800, "seed": 11},             // make-data requests,
//           "cola": {"file": "../data/cola/train.json", "offset": 0, "limit": 400}, ...},  // or a slice of a file
//  "suite": {"batch_size": 32, "benchmarks": [{"name": "arith", "dataset": "arith-test", ...}]},  // dataset: a data key
//  "train": {"data": "arith-train", "num_epochs": 2, ...},                           // train config keys
//  "runs": [{"peft": "lora", "variant": "none"}, {"peft": "lora", "variant": "query"},
//           {"peft": "lora", "variant": "no-query", "seeds": [1]}],   // a run's own seeds (an ablation on one)
//  "seeds": [1, 2, 3],
//  "report": "report.html"}
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/data_request.h"
#include "config/train_config.h"

namespace imsm {

// The project read, checked and resolved, without running or writing anything
// (the workbench's run presets come from here).
struct ProjectPlan {
  std::string name, model, output_dir, workspace, report;      // absolute paths
  std::string suite_file;                                      // OUTPUT/suite.json: the suite as written for its evaluations
  std::vector<std::pair<std::string, DataRequest>> data;       // key -> request (out: OUTPUT/data/KEY.jsonl)
  nlohmann::json suite;                                        // datasets resolved to those files
  std::vector<TrainConfig> runs;                               // methods x seeds, fully resolved
  std::vector<std::string> run_labels;                         // "IMSM(LoRA) seed 2"
  std::vector<double> mix_alphas;                              // the PEFT-alone adapters also evaluated at these fixed mixes (WiSE-FT)
};
ProjectPlan plan_project(const std::string& project_path);

// The files a project makes before it trains: every dataset (OUTPUT/data/KEY.jsonl)
// and the suite file. run_project makes them all (progress stage "data"); the
// workbench, starting one run of a project on its own, makes those missing.
std::vector<std::string> project_inputs(const ProjectPlan& plan);

}  // namespace imsm
