#include "report/results.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "io/json_file.h"
#include "util/table.h"

namespace fs = std::filesystem;

namespace imsm::report {

const Cell* ResultTable::cell(size_t row, size_t column) const {
  const auto it = cells.find({row, column});
  return it == cells.end() ? nullptr : &it->second;
}

const Cell* ResultTable::average(size_t row) const {
  const auto it = averages.find(row);
  return it == averages.end() ? nullptr : &it->second;
}

std::optional<size_t> ResultTable::base_of(size_t row) const {
  if (row >= rows.size() || rows[row].is_base()) return std::nullopt;
  for (size_t b = 0; b < rows.size(); ++b)
    if (rows[b].is_base() && rows[b].model == rows[row].model) return b;
  return std::nullopt;
}

bool ResultTable::has_changes() const {
  for (size_t r = 0; r < rows.size(); ++r)
    if (base_of(r)) return true;
  return false;
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
  for (size_t m = 0; m < t.rows.size(); ++m) {
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

// A setting's value as shown: numbers as JSON writes them, a path by its file name, a list joined by "+".
std::string setting_text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    return s.find('/') == std::string::npos ? s : fs::path(s).filename().string();
  }
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "+") + setting_text(x);
    return s;
  }
  return v.dump();
}

// What an evaluation was of: its row's model, method and configuration, the seed, and
// the subject (the trained run, the adapter, or the base model) whose latest evaluation counts.
struct Subject {
  std::string model, method, subject;
  nlohmann::json config;
  int64_t seed = 0;
};

std::string model_folder(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (!p.empty() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  return p.string();
}

Subject subject_of(const store::Workspace& ws, const store::RunRecord& r, const nlohmann::json& config) {
  Subject s;
  s.model = model_folder(r.model_path);
  if (r.parent_run_id) {
    const auto parent = ws.run(r.parent_run_id);
    s.method = method_label(parent.config_json);
    s.config = configuration_keys(parent.config_json);
    s.seed = parent.seed;
    s.subject = "run " + std::to_string(parent.id);
    if (config.is_object() && config.contains("mix_alpha") && config["mix_alpha"].is_number()) {  // evaluated at a fixed mix α
      const std::string alpha = setting_text(config["mix_alpha"]);
      s.method += " α=" + alpha;
      s.config["eval_mix_alpha"] = config["mix_alpha"];
      s.subject += " α=" + alpha;
    }
  } else if (!json::text_or(config, "adapter", "").empty()) {
    s.method = s.subject = json::text_or(config, "adapter", "");  // an adapter with no training run here
  } else {
    s.method = "Base";
    s.subject = "base " + s.model;
  }
  return s;
}

// One score as it is gathered: whose it is and which evaluation gave it.
struct Score {
  std::string subject;
  double value = 0;
  int64_t seed = 0, eval_run = 0;
};

// One configuration's scores: per column, each subject's latest evaluation, subjects in first-seen order.
struct Group {
  std::string key;  // model, method and configuration
  Subject first;    // the row's model, method and config
  std::map<size_t, std::vector<Score>> scores;
  void add(size_t column, const Score& score) {
    auto& list = scores[column];
    const auto it = std::find_if(list.begin(), list.end(), [&](const Score& s) { return s.subject == score.subject; });
    if (it == list.end()) list.push_back(score);
    else if (it->eval_run < score.eval_run) *it = score;  // the latest evaluation of that subject
  }
};

// The rows' settings: per model and method with several configurations, the keys whose values differ.
void name_rows(std::vector<Row>& rows) {
  std::set<std::string> models;
  for (const Row& r : rows) models.insert(r.model);
  for (Row& row : rows) {
    std::set<std::string> differing;
    for (const Row& other : rows) {
      if (other.model != row.model || other.method != row.method || !row.config.is_object() || !other.config.is_object()) continue;
      for (const auto& [key, value] : row.config.items())
        if (!other.config.contains(key) || other.config[key] != value) differing.insert(key);
      for (const auto& [key, value] : other.config.items())
        if (!row.config.contains(key)) differing.insert(key);
    }
    for (const std::string& key : differing)  // std::set: in key order
      row.settings += (row.settings.empty() ? "" : ", ") + key + "=" + setting_text(row.config.contains(key) ? row.config[key] : nlohmann::json());
    row.name = row.method + (row.settings.empty() ? "" : " (" + row.settings + ")");
    if (models.size() > 1) row.name += " · " + fs::path(row.model).filename().string();
  }
}

// The index of x in list, appending it when new.
template <typename T>
size_t index_of(std::vector<T>& list, const T& x) {
  const auto it = std::find(list.begin(), list.end(), x);
  if (it != list.end()) return static_cast<size_t>(it - list.begin());
  list.push_back(x);
  return list.size() - 1;
}

}  // namespace

std::string method_label(const std::string& config_json) {
  const auto j = nlohmann::json::parse(config_json, nullptr, false);
  if (!j.is_object()) return "?";
  if (const std::string label = json::text_or(j, "label", ""); !label.empty()) return label;
  std::string variant = json::text_or(j, "variant", "query");
  const double alpha = json::number_or(j, "mix_alpha", 0.5);
  if (variant == "no-gate" && alpha != 0.5) variant = "fixed α=" + setting_text(alpha);
  std::string label = method_label(json::text_or(j, "peft", "lora"), variant);
  if (json::number_or(j, "replay_ratio", 0) > 0) label += json::number_or(j, "replay_self_examples", 0) > 0 ? "+SSR" : "+replay";
  if (json::number_or(j, "ewc_lambda", 0) > 0) label += "+EWC";
  if (json::number_or(j, "kl_lambda", 0) > 0) label += "+KL";
  return label;
}

std::string method_label(const std::string& peft, const std::string& variant) {
  const std::string name = peft == "lora" ? "LoRA" : peft == "dora" ? "DoRA" : peft == "ia3" ? "(IA)³" : peft == "adalora" ? "AdaLoRA" : peft;
  if (variant == "none") return name;
  if (variant == "query") return "IMSM(" + name + ")";
  return "IMSM-" + variant + "(" + name + ")";
}

nlohmann::json configuration_keys(const std::string& config_json) {
  auto j = nlohmann::json::parse(config_json, nullptr, false);
  if (!j.is_object()) return nlohmann::json::object();
  for (const char* key : {"seed", "output_dir", "resume_from", "label", "sweep", "device", "data_device", "dataset", "model_path", "save_steps", "loss_chunk_size", "gradient_checkpointing",
                          "gate_probe_examples", "gate_probe_data", "test_data_path", "memory_check"})
    j.erase(key);
  // The baselines' keys where they are off: runs made before they existed group with those made after.
  auto off = [&](const char* key, const nlohmann::json& value) {
    if (j.contains(key) && j[key] == value) j.erase(key);
  };
  off("replay_ratio", 0), off("replay_data", ""), off("replay_self_examples", 0), off("kl_lambda", 0), off("mix_alpha", 0.5);  // numbers compare by value
  if (!j.contains("ewc_lambda") || j["ewc_lambda"] == 0) {
    j.erase("ewc_lambda");
    j.erase("ewc_data");
    j.erase("ewc_examples");
  }
  return j;
}

ResultTable aggregate_results(const store::Workspace& ws, const std::vector<int64_t>& run_ids) {
  std::vector<store::RunRecord> runs;
  if (run_ids.empty()) {
    runs = ws.runs();
  } else {
    for (int64_t id : run_ids) runs.push_back(ws.run(id));
  }
  ResultTable t;
  std::vector<Group> groups;
  for (const auto& r : runs) {
    if (r.kind != "eval" || r.status != RunStatus::Finished) continue;
    const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
    const Subject s = subject_of(ws, r, config);
    const std::string key = s.model + "\n" + s.method + "\n" + s.config.dump();
    auto group = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.key == key; });
    if (group == groups.end()) group = groups.insert(groups.end(), Group{key, s, {}});
    // The headline metric of each benchmark: the suite's choice, else the first recorded (official order).
    std::map<std::string, std::string> headline;
    if (config.is_object() && config.contains("benchmarks") && config["benchmarks"].is_array())
      for (const auto& b : config["benchmarks"]) headline[json::text_or(b, "name", "")] = json::text_or(b, "metric", "");
    for (const auto& e : ws.evaluations(r.id)) {
      if (!headline.count(e.benchmark)) headline[e.benchmark] = e.metric;
      if (headline[e.benchmark] != e.metric) continue;
      size_t c = t.columns.size();
      for (size_t i = 0; i < t.columns.size(); ++i)
        if (t.columns[i].benchmark == e.benchmark && t.columns[i].metric == e.metric) c = i;
      if (c == t.columns.size()) t.columns.push_back({e.benchmark, e.metric, e.task});
      group->add(c, {s.subject, e.value, s.seed, r.id});
    }
  }
  // Rows per model in first-seen order, each model's Base first.
  std::vector<std::string> models;
  for (const Group& g : groups) index_of(models, g.first.model);
  auto rank = [&](const Group& g) { return std::make_pair(index_of(models, g.first.model), g.first.method == "Base" ? 0 : 1); };
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) { return rank(a) < rank(b); });
  for (const Group& g : groups) {
    const Subject& s = g.first;
    t.rows.push_back({"", s.method, s.model, "", s.config});
    for (const auto& [c, scores] : g.scores) {
      Cell cell;
      for (const Score& score : scores) {
        cell.values.push_back(score.value);
        cell.seeds.push_back(score.seed);
        cell.eval_run_ids.push_back(score.eval_run);
      }
      summarise(cell);
      t.cells[{t.rows.size() - 1, c}] = cell;
    }
  }
  name_rows(t.rows);
  add_averages(t);
  return t;
}

std::string mean_std(const Cell& c, int decimals) {
  return c.n > 1 ? format_fixed(c.mean, decimals) + " ± " + format_fixed(c.std, decimals) : format_fixed(c.mean, decimals);
}

}  // namespace imsm::report
