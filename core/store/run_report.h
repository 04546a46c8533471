// Runs of a workspace as people and other tools read them: a text table
// (list, compare), one JSON document per run, a long-format CSV. Shared by
// `imsm runs` and the workbench. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/workspace.h"
#include "util/table.h"

namespace imsm::store {

using imsm::Table;

// One column per run: status, model, dataset, seed, steps, losses, duration,
// every evaluation score, and the configuration keys whose values differ.
Table compare_runs(const Workspace& ws, const std::vector<int64_t>& ids);

// The run, its parsed configuration, metrics, evaluations and artifacts
// (and predictions with their gate traces when asked).
nlohmann::ordered_json run_json(const Workspace& ws, int64_t id, bool with_predictions = false);
// RFC 4180 CSV, one value per row:
// run_id,run_name,kind,record,benchmark,task,step,epoch,metric,value
// (record: train for per-step metrics, eval for evaluation scores).
std::string runs_csv(const Workspace& ws, const std::vector<int64_t>& ids);

// "12.40 GiB GPU" (the most any GPU used), else "1.10 GiB RAM" (the process's resident memory); "" when not recorded.
std::string peak_memory_text(const ResourcePeak& peak);

// The last component of a path ("runs/a/adapter" -> "adapter").
std::string short_path(const std::string& path);

// Seconds between two ISO 8601 UTC times written by the workspace; -1 when either is missing.
double seconds_between(const std::string& start, const std::string& end);

}  // namespace imsm::store
