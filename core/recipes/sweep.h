// Sweeps: a grid of training runs over a few keys (learning rate, rank, gate
// rank, variant, ...) × seeds. Each cell is a run of its own — its label
// names the cell's settings, its key "sweep" names the grid — so the runs
// pane groups them and the sweep chart plots a metric against a swept key.
// Every cell goes through the engine's parser, so a bad value names its key.
// Torch-free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recipes/run_table.h"
#include "recipes/train_config.h"
#include "store/workspace.h"

namespace imsm {

struct SweepAxis {
  std::string key;                    // an `imsm train` key
  std::vector<nlohmann::json> values;  // in the order given
};

constexpr size_t kSweepCellsToConfirm = 100;  // more runs than this: the window asks before queueing

// One axis per line (or separated by ';'): "learning_rate = 1e-4, 3e-4, 1e-3".
// A value is a JSON number or true/false where it reads as one, else a string
// ("query"). BadInput naming the axis: no '=', no value, a key twice, the seed
// (seeds are their own field).
std::vector<SweepAxis> parse_sweep_axes(const std::string& text);

// The runs of a grid: every combination of the axes' values (the first axis
// slowest) × each seed of `seeds` (as expand_seeds reads them). Each cell's
// label is BASE_LABEL · key=value, ...; its output folder OUTPUT_DIR/NAME/key=value,...
// (-seedN with several seeds); its "sweep" key NAME. BadInput naming the cell and key.
std::vector<TrainConfig> expand_sweep(const nlohmann::json& base, const std::vector<SweepAxis>& axes, const std::string& seeds,
                                      const std::string& name);

// The runs of a sweep as recorded in a workspace, for its chart: which keys
// vary among them, and per run its value of each and its scores.
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
