// Results of a workspace grouped for reports: evaluation scores by method
// (the PEFT method with or without IMSM, from the training run behind each
// evaluated adapter; "Base" for the model alone) and benchmark, as mean ± std
// over seeds — the layout of the IMSM paper's Tables 1 and 2. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/workspace.h"

namespace imsm::report {

struct Cell {
  double mean = 0, std = 0;  // std: sample standard deviation (n - 1); 0 when n = 1
  int64_t n = 0;
  std::vector<int64_t> seeds;
  std::vector<int64_t> eval_run_ids;  // the evaluation behind each seed's score
  std::vector<double> values;         // each seed's score
};

struct Column {
  std::string benchmark, metric, task;
};

struct ResultTable {
  std::vector<std::string> methods;  // "Base" first when present
  std::vector<Column> columns;       // benchmarks in first-seen order, each with its headline metric
  std::map<std::pair<size_t, size_t>, Cell> cells;  // (method, column)
  const Cell* cell(size_t method, size_t column) const;
  // The paper's "Avg." column: per method, each seed's mean over the columns
  // where higher is better (not perplexity), then mean ± std over the seeds;
  // only for a method scored on every such column by the same evaluations.
  std::map<size_t, Cell> averages;
  size_t averaged_columns = 0;
  const Cell* average(size_t method) const;
};

// "LoRA", "IMSM(LoRA)", "IMSM-no-query((IA)³)", ... from a training run's configuration.
std::string method_label(const std::string& config_json);

// The evaluation runs among `run_ids` (all runs when empty) that finished.
ResultTable aggregate_results(const store::Workspace& ws, const std::vector<int64_t>& run_ids);

// False for the metrics where lower is better (Perplexity).
bool higher_is_better(const std::string& metric);

// "0.4512 ± 0.0123"
std::string mean_std(const Cell& c, int decimals = 4);

}  // namespace imsm::report
