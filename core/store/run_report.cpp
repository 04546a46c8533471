#include "store/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <set>

namespace imsm::store {

std::string short_path(const std::string& p) {
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

namespace {

nlohmann::json parsed_config(const RunRecord& r) {
  const auto j = nlohmann::json::parse(r.config_json, nullptr, false);
  return j.is_discarded() ? nlohmann::json(r.config_json) : j;
}

}  // namespace

double seconds_between(const std::string& start, const std::string& end) {
  auto parse = [](const std::string& s, std::time_t& out) {
    std::tm tm{};
    if (s.size() < 20 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return false;
    out = timegm(&tm);
    return true;
  };
  std::time_t a, b;
  if (!parse(start, a) || !parse(end, b)) return -1;
  return std::difftime(b, a);
}

namespace {

// The table being built: a row is a label and one cell per run.
struct Comparison {
  Table& t;
  const std::vector<RunRecord>& runs;
  void row(const std::string& label, const std::function<std::string(const RunRecord&)>& cell) {
    std::vector<std::string> r{label};
    for (const auto& run : runs) r.push_back(cell(run));
    t.rows.push_back(std::move(r));
  }
};

void add_loss_rows(const Workspace& ws, Comparison& c) {
  std::map<int64_t, std::vector<StepRecord>> metrics;
  for (const auto& r : c.runs) metrics[r.id] = ws.train_metrics(r.id);
  c.row("steps", [&](const RunRecord& r) { return metrics[r.id].empty() ? "" : std::to_string(metrics[r.id].back().step); });
  c.row("final loss", [&](const RunRecord& r) { return metrics[r.id].empty() ? "" : format_number(metrics[r.id].back().loss); });
  c.row("min loss", [&](const RunRecord& r) {
    double best = INFINITY;
    for (const auto& m : metrics[r.id]) if (!std::isnan(m.loss)) best = std::min(best, m.loss);
    return std::isinf(best) ? std::string() : format_number(best);
  });
}

// One row per benchmark and metric that any of the runs has.
void add_score_rows(const Workspace& ws, Comparison& c) {
  std::vector<std::string> keys;
  std::map<std::pair<int64_t, std::string>, double> score;
  for (const auto& r : c.runs)
    for (const auto& e : ws.evaluations(r.id)) {
      const std::string key = e.benchmark + " " + e.metric;
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      score[{r.id, key}] = e.value;
    }
  for (const auto& key : keys)
    c.row(key, [&](const RunRecord& r) {
      const auto it = score.find({r.id, key});
      return it == score.end() ? std::string() : format_number(it->second);
    });
}

// The configuration keys whose values differ between the runs.
void add_config_rows(Comparison& c) {
  std::vector<nlohmann::json> configs;
  std::set<std::string> all_keys;
  for (const auto& r : c.runs) {
    configs.push_back(parsed_config(r));
    if (configs.back().is_object())
      for (const auto& [k, v] : configs.back().items()) all_keys.insert(k);
  }
  for (const auto& k : all_keys) {
    std::set<std::string> values;
    for (const auto& config : configs) values.insert(config.is_object() && config.contains(k) ? config[k].dump() : "");
    if (values.size() < 2) continue;
    size_t i = 0;
    c.row("config." + k, [&](const RunRecord&) {
      const auto& config = configs[i++];
      if (!config.is_object() || !config.contains(k)) return std::string();
      return config[k].is_string() ? config[k].get<std::string>() : config[k].dump();
    });
  }
}

}  // namespace

Table compare_runs(const Workspace& ws, const std::vector<int64_t>& ids) {
  Table t;
  t.header.push_back("");
  std::vector<RunRecord> runs;
  for (int64_t id : ids) {
    runs.push_back(ws.run(id));
    t.header.push_back("run " + std::to_string(id));
  }
  Comparison c{t, runs};
  c.row("name", [](const RunRecord& r) { return r.name; });
  c.row("kind", [](const RunRecord& r) { return r.kind; });
  c.row("status", [](const RunRecord& r) { return std::string(status_name(r.status)); });
  c.row("model", [](const RunRecord& r) { return short_path(r.model_path); });
  c.row("dataset", [](const RunRecord& r) { return short_path(r.dataset_path); });
  c.row("seed", [](const RunRecord& r) { return std::to_string(r.seed); });
  c.row("duration", [](const RunRecord& r) { return format_duration(seconds_between(r.started_at, r.ended_at)); });
  c.row("peak memory", [&](const RunRecord& r) { return peak_memory_text(ws.resource_peak(r.id)); });
  add_loss_rows(ws, c);
  add_score_rows(ws, c);
  add_config_rows(c);
  return t;
}

std::string peak_memory_text(const ResourcePeak& peak) {
  if (peak.gpu_memory_bytes >= 0) return format_bytes(static_cast<double>(peak.gpu_memory_bytes)) + " GPU";
  if (peak.rss_bytes >= 0) return format_bytes(static_cast<double>(peak.rss_bytes)) + " RAM";
  return "";
}

nlohmann::ordered_json run_json(const Workspace& ws, int64_t id, bool with_predictions) {
  const RunRecord r = ws.run(id);
  nlohmann::ordered_json j = {{"id", r.id}, {"kind", r.kind}, {"name", r.name}, {"status", status_name(r.status)},
                              {"model", r.model_path}, {"dataset", r.dataset_path}, {"seed", r.seed},
                              {"device", r.device}, {"engine_version", r.engine_version}, {"output_dir", r.output_dir},
                              {"last_checkpoint", r.last_checkpoint}, {"message", r.message}, {"created_at", r.created_at},
                              {"started_at", r.started_at}, {"ended_at", r.ended_at}};
  if (r.parent_run_id) j["parent_run_id"] = r.parent_run_id;
  j["config"] = parsed_config(r);
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  j["metrics"] = nlohmann::ordered_json::array();
  for (const auto& m : ws.train_metrics(id))
    j["metrics"].push_back({{"step", m.step}, {"epoch", m.epoch}, {"loss", number(m.loss)}, {"learning_rate", m.learning_rate},
                            {"grad_norm", number(m.grad_norm)}, {"tokens_per_second", m.tokens_per_second}});
  j["evaluations"] = nlohmann::ordered_json::array();
  std::vector<std::string> benchmarks;
  for (const auto& e : ws.evaluations(id)) {
    j["evaluations"].push_back({{"benchmark", e.benchmark}, {"task", e.task}, {"metric", e.metric}, {"value", e.value},
                                {"examples", e.examples}, {"dataset", e.dataset_path}});
    if (std::find(benchmarks.begin(), benchmarks.end(), e.benchmark) == benchmarks.end()) benchmarks.push_back(e.benchmark);
  }
  j["artifacts"] = nlohmann::ordered_json::array();
  for (const auto& a : ws.artifacts(id))
    j["artifacts"].push_back({{"kind", a.kind}, {"path", a.path}, {"sha256", a.sha256}, {"bytes", a.bytes}});
  if (with_predictions) {
    auto& preds = j["predictions"] = nlohmann::ordered_json::object();
    for (const auto& b : benchmarks) {
      auto& list = preds[b] = nlohmann::ordered_json::array();
      for (const auto& p : ws.predictions(id, b, true)) {
        nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
        for (const auto& t : p.tokens) {
          nlohmann::ordered_json tj = {{"id", t.id}, {"piece", t.piece}};
          if (t.gate_mean >= 0) tj["gate_mean"] = t.gate_mean;
          if (!t.gate.empty()) tj["gate"] = t.gate;
          tokens.push_back(std::move(tj));
        }
        list.push_back({{"index", p.example_index}, {"input", p.input}, {"output", p.golds}, {"answer", p.answer}, {"tokens", tokens}});
      }
    }
  }
  return j;
}

std::string runs_csv(const Workspace& ws, const std::vector<int64_t>& ids) {
  std::string out = "run_id,run_name,kind,record,benchmark,task,step,epoch,metric,value\r\n";
  for (int64_t id : ids) {
    const RunRecord r = ws.run(id);
    const std::string head = std::to_string(r.id) + "," + csv_field(r.name) + "," + r.kind + ",";
    for (const auto& m : ws.train_metrics(id)) {
      const std::string where = head + "train,,," + std::to_string(m.step) + "," + std::to_string(m.epoch) + ",";
      out += where + "loss," + format_number(m.loss) + "\r\n";
      out += where + "learning_rate," + format_number(m.learning_rate) + "\r\n";
      out += where + "grad_norm," + format_number(m.grad_norm) + "\r\n";
      out += where + "tokens_per_second," + format_number(m.tokens_per_second) + "\r\n";
    }
    for (const auto& e : ws.evaluations(id))
      out += head + "eval," + csv_field(e.benchmark) + "," + csv_field(e.task) + ",,," + csv_field(e.metric) + "," + format_number(e.value) + "\r\n";
  }
  return out;
}

}  // namespace imsm::store
