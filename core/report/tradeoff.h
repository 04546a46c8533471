// The learning–forgetting trade-off of a result table in one picture: per
// configuration, its gain on the target benchmark (x: score − the base
// model's) against its retention change (y: the mean over the other
// benchmarks of score − the base model's), each with the paired bootstrap's
// 95% interval over the examples and the seeds (eval/significance.h); an
// adapter evaluated at fixed mixes (α, WiSE-FT) as a curve from the adapter
// itself (α = 0) along α; and the Pareto front — the points no other point
// (nor the base model, at the origin) beats on both axes. Torch-free.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "eval/significance.h"
#include "report/results.h"
#include "store/workspace.h"

namespace imsm::report {

struct TradeoffPoint {
  size_t row = 0;          // of the ResultTable
  std::string name;        // the row's name
  std::string method;      // its method, α taken off ("LoRA" for "LoRA α=0.25")
  Difference gain;         // x: on the target benchmark, against the row's base model
  Difference retention;    // y: the mean change over the retention benchmarks
  int64_t seeds = 0;
  double alpha = -1;       // evaluated at this fixed mix; −1: as trained
  bool pareto = false;
};

struct TradeoffCurve {
  std::string name;            // the adapter's row name
  std::vector<size_t> points;  // into Tradeoff::points: the adapter (α = 0), then its mixes by α
};

struct Tradeoff {
  std::string target, target_metric;                // the benchmark learned
  std::vector<std::string> retention, retention_metrics;  // the benchmarks kept
  std::vector<TradeoffPoint> points;
  std::vector<TradeoffCurve> curves;
  std::string why_empty;                            // no point: why, for people
};

// `target`: a column's benchmark ("": the first column). The retention
// benchmarks: every other column scored per item (not perplexity). A row
// enters when its model has a Base row and the row has every needed cell.
// BadInput when `target` names no column.
Tradeoff tradeoff(const store::Workspace& ws, const ResultTable& table, const std::string& target = "", const BootstrapOptions& options = {});

// One line per point: name, method, alpha, seeds, gain and its interval, retention and its interval, pareto.
std::string tradeoff_csv(const Tradeoff& t);
// The picture (report/svg.h's scatter): a colour per method.
std::string tradeoff_svg(const Tradeoff& t, int width = 760, int height = 480);

}  // namespace imsm::report
