// Sweeps: a grid of training runs over a few keys (learning rate, rank, gate
// rank, variant, ...) × seeds. Each cell is a run of its own — its label
// names the cell's settings, its key "sweep" names the grid — so the runs
// pane groups them and the sweep chart (views/sweep.h) plots a metric against
// a swept key. Every cell goes through the engine's parser, so a bad value
// names its key. Torch-free.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/train_config.h"

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

// A swept value as the cell's label and folder write it: a string as it is, else its JSON.
std::string sweep_value_text(const nlohmann::json& v);

}  // namespace imsm
