// The runs of a sweep (config/sweep_grid.h) as recorded in a workspace, for
// the sweep chart: which keys vary among them, each run's value of each and
// its scores, and the chart's points. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/workspace.h"

namespace imsm {

struct SweepRun {
  int64_t id = 0, seed = 0;
  nlohmann::json settings;  // the swept keys' values
  std::vector<std::pair<std::string, double>> scores;  // as RunSummary: its adapter's evaluations
};
struct SweepData {
  std::string name;
  std::vector<std::string> keys;    // the keys whose values differ between its runs
  std::vector<std::string> scores;  // every score name any run has
  std::vector<SweepRun> runs;       // its training runs
};
SweepData sweep_data(const store::Workspace& ws, const std::string& name);
std::vector<std::string> sweep_names(const store::Workspace& ws);  // in order of their first run

// A point of the chart: x (the key's value as a number; categorical values by
// their first appearance, 0, 1, ...), its text, the series (the other swept
// keys' values), the run's seed and score.
struct SweepPoint {
  double x = 0;
  std::string x_text, series;
  int64_t run_id = 0, seed = 0;
  double value = 0;
};
std::vector<SweepPoint> sweep_points(const SweepData& data, const std::string& key, const std::string& score);

}  // namespace imsm
