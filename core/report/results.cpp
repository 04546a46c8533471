#include "report/results.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "util/table.h"

namespace imsm::report {

const Cell* ResultTable::cell(size_t method, size_t column) const {
  const auto it = cells.find({method, column});
  return it == cells.end() ? nullptr : &it->second;
}

const Cell* ResultTable::average(size_t method) const {
  const auto it = averages.find(method);
  return it == averages.end() ? nullptr : &it->second;
}

bool higher_is_better(const std::string& metric) { return metric != "Perplexity"; }

namespace {

// Mean and sample std of `values` into `cell` (equal values: exactly that value, std exactly 0).
void summarise(Cell& cell) {
  cell.n = static_cast<int64_t>(cell.values.size());
  cell.mean = 0;
  cell.std = 0;
  for (double v : cell.values) cell.mean += v;
  cell.mean /= static_cast<double>(cell.n);
  const auto [lo, hi] = std::minmax_element(cell.values.begin(), cell.values.end());
  if (*lo == *hi) {
    cell.mean = *lo;  // not 1e-17 of rounding
  } else if (cell.n > 1) {
    double ss = 0;
    for (double v : cell.values) ss += (v - cell.mean) * (v - cell.mean);
    cell.std = std::sqrt(ss / static_cast<double>(cell.n - 1));
  }
}

// The "Avg." column (see ResultTable::averages).
void add_averages(ResultTable& t) {
  std::vector<size_t> columns;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (higher_is_better(t.columns[c].metric)) columns.push_back(c);
  t.averaged_columns = columns.size();
  if (columns.size() < 2) return;
  for (size_t m = 0; m < t.methods.size(); ++m) {
    const Cell* first = t.cell(m, columns.front());
    if (!first) continue;
    bool complete = true;
    for (size_t c : columns) complete = complete && t.cell(m, c) && t.cell(m, c)->eval_run_ids == first->eval_run_ids;
    if (!complete) continue;
    Cell avg;
    avg.seeds = first->seeds;
    avg.eval_run_ids = first->eval_run_ids;
    for (size_t k = 0; k < first->values.size(); ++k) {
      double sum = 0;
      for (size_t c : columns) sum += t.cell(m, c)->values[k];
      avg.values.push_back(sum / static_cast<double>(columns.size()));
    }
    summarise(avg);
    t.averages[m] = avg;
  }
}

}  // namespace

std::string method_label(const std::string& config_json) {
  const auto j = nlohmann::json::parse(config_json, nullptr, false);
  if (!j.is_object()) return "?";
  if (j.contains("label") && j["label"].is_string() && !j["label"].get<std::string>().empty()) return j["label"].get<std::string>();
  const std::string peft = j.value("peft", "lora");
  const std::string name = peft == "lora" ? "LoRA" : peft == "dora" ? "DoRA" : peft == "ia3" ? "(IA)³" : peft == "adalora" ? "AdaLoRA" : peft;
  const std::string variant = j.value("variant", "query");
  if (variant == "none") return name;
  if (variant == "query") return "IMSM(" + name + ")";
  return "IMSM-" + variant + "(" + name + ")";
}

ResultTable aggregate_results(const store::Workspace& ws, const std::vector<int64_t>& run_ids) {
  std::vector<store::RunRecord> runs;
  if (run_ids.empty()) {
    runs = ws.runs();
  } else {
    for (int64_t id : run_ids) runs.push_back(ws.run(id));
  }
  ResultTable t;
  struct Score {
    double value;
    int64_t seed, eval_run_id;
  };
  std::map<std::pair<size_t, size_t>, std::vector<Score>> values;
  auto index_of = [](std::vector<std::string>& list, const std::string& x) {
    const auto it = std::find(list.begin(), list.end(), x);
    if (it != list.end()) return static_cast<size_t>(it - list.begin());
    list.push_back(x);
    return list.size() - 1;
  };
  for (const auto& r : runs) {
    if (r.kind != "eval" || r.status != RunStatus::Finished) continue;
    const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
    std::string method = "Base";
    int64_t seed = 0;
    if (r.parent_run_id) {
      const auto parent = ws.run(r.parent_run_id);
      method = method_label(parent.config_json);
      seed = parent.seed;
    } else if (config.is_object() && !config.value("adapter", std::string()).empty()) {
      method = config.value("adapter", std::string());
    }
    // The headline metric of each benchmark: the suite's choice, else the first recorded (official order).
    std::map<std::string, std::string> headline;
    if (config.is_object() && config.contains("benchmarks"))
      for (const auto& b : config["benchmarks"]) headline[b.value("name", "")] = b.value("metric", "");
    const size_t m = index_of(t.methods, method);
    for (const auto& e : ws.evaluations(r.id)) {
      if (!headline.count(e.benchmark)) headline[e.benchmark] = e.metric;
      if (headline[e.benchmark] != e.metric) continue;
      size_t c = t.columns.size();
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i].benchmark == e.benchmark && t.columns[i].metric == e.metric) c = i;
      if (c == t.columns.size()) t.columns.push_back({e.benchmark, e.metric, e.task});
      values[{m, c}].push_back({e.value, seed, r.id});
    }
  }
  // "Base" first.
  const auto base = std::find(t.methods.begin(), t.methods.end(), "Base");
  std::vector<size_t> order;
  if (base != t.methods.end()) order.push_back(static_cast<size_t>(base - t.methods.begin()));
  for (size_t i = 0; i < t.methods.size(); ++i)
    if (t.methods[i] != "Base") order.push_back(i);
  ResultTable out;
  out.columns = t.columns;
  for (size_t new_m = 0; new_m < order.size(); ++new_m) {
    out.methods.push_back(t.methods[order[new_m]]);
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const auto it = values.find({order[new_m], c});
      if (it == values.end()) continue;
      Cell cell;
      for (const Score& score : it->second) {
        cell.values.push_back(score.value);
        cell.seeds.push_back(score.seed);
        cell.eval_run_ids.push_back(score.eval_run_id);
      }
      summarise(cell);
      out.cells[{new_m, c}] = cell;
    }
  }
  add_averages(out);
  return out;
}


std::string mean_std(const Cell& c, int decimals) {
  return c.n > 1 ? format_fixed(c.mean, decimals) + " ± " + format_fixed(c.std, decimals) : format_fixed(c.mean, decimals);
}

}  // namespace imsm::report
