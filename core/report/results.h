// Results of a workspace grouped for reports: evaluation scores by
// configuration and benchmark, as mean ± std over seeds — the layout of the
// IMSM paper's Tables 1 and 2. A row is one configuration: the base model, the
// method (the PEFT method with or without IMSM, or the run's label; "Base" for
// the model alone) and the training keys that tell it from the same method's
// other configurations; its seeds are the runs trained with it. Each trained
// adapter (and each base model) counts once per benchmark: its latest
// evaluation. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

struct Row {
  std::string name;      // as shown: method, its settings in parentheses, " · model" when the table has several models
  std::string method;    // "Base", "LoRA", "IMSM(LoRA)", a label
  std::string model;     // the base model's folder
  std::string settings;  // "learning_rate=0.001, lora_r=8": the keys that differ among the method's rows of this model ("" when none)
  nlohmann::json config; // the training keys that define the configuration (null for Base)
  bool is_base() const { return method == "Base"; }
};

struct ResultTable {
  std::vector<Row> rows;         // per model (first seen first): its Base row first when present, then its methods
  std::vector<Column> columns;   // benchmarks in first-seen order, each with its headline metric
  std::map<std::pair<size_t, size_t>, Cell> cells;  // (row, column)
  const Cell* cell(size_t row, size_t column) const;
  // The Base row of the row's model (nullopt when that model was not evaluated alone, or for a Base row).
  std::optional<size_t> base_of(size_t row) const;
  // True when some row is measured against a Base row.
  bool has_changes() const;
  // The paper's "Avg." column: per row, each seed's mean over the columns
  // where higher is better (not perplexity), then mean ± std over the seeds;
  // only for a row scored on every such column by the same evaluations.
  std::map<size_t, Cell> averages;
  size_t averaged_columns = 0;
  const Cell* average(size_t row) const;
};

// "LoRA", "IMSM(LoRA)", "IMSM-no-query((IA)³)", ... from a training run's configuration.
std::string method_label(const std::string& config_json);
// "LoRA", "IMSM(LoRA)", "IMSM-no-gate((IA)³)": a PEFT method's name (lora, dora, ia3, adalora) with an IMSM variant.
std::string method_label(const std::string& peft, const std::string& variant);

// The keys of a training configuration that define what was trained: all but
// the seed, where it was written, the device, memory settings, logging and the label
// (the label names the method).
nlohmann::json configuration_keys(const std::string& config_json);

// The evaluation runs among `run_ids` (all runs when empty) that finished.
ResultTable aggregate_results(const store::Workspace& ws, const std::vector<int64_t>& run_ids);

// False for the metrics where lower is better (Perplexity).
bool higher_is_better(const std::string& metric);

// "0.4512 ± 0.0123"
std::string mean_std(const Cell& c, int decimals = 4);

}  // namespace imsm::report
