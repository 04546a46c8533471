#include "views/run_table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <fstream>

#include <nlohmann/json.hpp>

#include "imsm/gate_config.h"
#include "io/json_file.h"
#include "report/results.h"
#include "store/run_report.h"
#include "util/error.h"

namespace imsm {

namespace {
RunSummary summary_of(const store::Workspace& ws, const store::RunRecord& r) {
  RunSummary row;
  row.id = r.id;
  row.parent_run_id = r.parent_run_id;
  row.seed = r.seed;
  row.kind = r.kind;
  row.status = r.status;
  row.name = r.name;
  row.model_path = r.model_path;
  row.started_at = r.started_at;
  row.message = r.message;
  row.seconds = store::seconds_between(r.started_at, r.ended_at);
  if (r.kind == "train") {
    row.method = report::method_label(r.config_json);
    const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
    if (config.is_object() && config.contains("variant") && config["variant"].is_string()) row.variant = config["variant"].get<std::string>();
    if (config.is_object() && config.contains("sweep") && config["sweep"].is_string()) row.sweep = config["sweep"].get<std::string>();
    const auto m = ws.train_metrics(r.id);
    if (!m.empty()) {
      row.steps = m.back().step;
      row.final_loss = m.back().loss;
    }
  } else {
    row.method = r.parent_run_id ? "adapter of run " + std::to_string(r.parent_run_id) : "base model";
  }
  for (const auto& e : ws.evaluations(r.id)) row.scores.emplace_back(e.benchmark + " " + e.metric, e.value);
  row.peak = ws.resource_peak(r.id);
  return row;
}

std::string rounded(double v) { return format_number(std::round(v * 1e4) / 1e4); }
}  // namespace

std::vector<RunSummary> run_summaries(const store::Workspace& ws) {
  std::vector<RunSummary> out;
  for (const auto& r : ws.runs()) out.push_back(summary_of(ws, r));
  // A training run shows the scores of the evaluations of its adapter; an evaluation shows whose adapter it ran.
  for (auto& parent : out)
    for (auto& child : out)
      if (child.kind == "eval" && child.parent_run_id == parent.id) {
        if (child.status == RunStatus::Finished) parent.scores.insert(parent.scores.end(), child.scores.begin(), child.scores.end());
        child.method = parent.method + " (run " + std::to_string(parent.id) + ")";
        child.variant = parent.variant;
        child.seed = parent.seed;
      }
  return out;
}

Table runs_table(const std::vector<RunSummary>& runs) {
  Table t{{"id", "kind", "status", "name", "model", "started", "duration", "peak memory", "result"}, {}};
  for (const auto& r : runs) {
    std::string result;
    if (r.kind == "train") {
      if (r.steps > 0) result = "step " + std::to_string(r.steps) + " loss " + rounded(r.final_loss);
    } else if (!r.scores.empty()) {
      result = r.scores.front().first + " " + rounded(r.scores.front().second) +
               (r.scores.size() > 1 ? " (+" + std::to_string(r.scores.size() - 1) + ")" : "");
    }
    t.rows.push_back({std::to_string(r.id), r.kind, status_name(r.status), r.name, store::short_path(r.model_path), r.started_at,
                      format_duration(r.seconds), store::peak_memory_text(r.peak), result});
  }
  return t;
}

std::string finished_adapter_of(const store::RunRecord& r) {
  if (r.kind != "train" || r.status != RunStatus::Finished) return {};
  return (std::filesystem::path(r.output_dir) / "adapter").string();
}

std::optional<ModelSource> imsm_source_of(const store::RunRecord& r) {
  const std::string adapter = finished_adapter_of(r);
  if (adapter.empty()) return std::nullopt;
  const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
  if (!std::filesystem::exists(std::filesystem::path(adapter) / "imsm_config.json") ||
      gate_variants().find(json::text_or(config, "variant", "")) == GateVariant::None)
    return std::nullopt;
  const std::string where = "run " + std::to_string(r.id) + " of the workspace";
  const DeviceSpec device = r.device.empty() ? DeviceSpec::cpu() : parse_device_spec(r.device, "device", where);
  return ModelSource{r.model_path, adapter, device, precisions().parse(json::text_or(config, "dtype", "auto"), "dtype", where)};
}

std::vector<ImsmRun> imsm_runs(const std::vector<store::RunRecord>& runs) {
  std::vector<ImsmRun> out;
  for (auto r = runs.rbegin(); r != runs.rend(); ++r)
    if (const std::optional<ModelSource> source = imsm_source_of(*r)) out.push_back({*r, *source});
  return out;
}

std::optional<ExportRequest> export_request_of(const store::RunRecord& r) {
  const std::string adapter = finished_adapter_of(r);
  if (adapter.empty() || !std::filesystem::exists(std::filesystem::path(adapter) / "adapter_config.json")) return std::nullopt;
  ExportRequest request;
  request.adapter_dir = adapter;
  request.model_dir = r.model_path;
  return request;
}

std::vector<GateProbeRecord> gate_probes_of(const store::RunRecord& run) {
  const std::string path = (std::filesystem::path(run.output_dir) / kGateProbesFile).string();
  std::ifstream in(path);
  std::map<int64_t, std::vector<float>> by_step;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer() || !j.contains("gate") || !j["gate"].is_array())
      throw_bad_input(path + ":" + std::to_string(n), "not a gate probe line ({\"step\": N, \"gate\": [...]})");
    std::vector<float> gate;
    for (const auto& v : j["gate"]) {
      if (!v.is_number()) throw_bad_input(path + ":" + std::to_string(n), "a gate value that is not a number");
      gate.push_back(v.get<float>());
    }
    by_step[j["step"].get<int64_t>()] = std::move(gate);
  }
  std::vector<GateProbeRecord> out;
  for (auto& [step, gate] : by_step)
    if (out.empty() || gate.size() == out.front().gate.size()) out.push_back({step, std::move(gate)});
  return out;
}

std::vector<TokenTrace> traces_of(const store::Prediction& p) {
  std::vector<TokenTrace> tokens;
  for (const auto& t : p.tokens) {
    TokenTrace tt;
    tt.id = t.id;
    tt.piece = t.piece;
    tt.gate_mean = t.gate_mean;
    tt.gate = t.gate;
    if (!t.gate.empty()) {
      tt.gate_min = *std::min_element(t.gate.begin(), t.gate.end());
      tt.gate_max = *std::max_element(t.gate.begin(), t.gate.end());
    } else {
      tt.gate_min = tt.gate_max = t.gate_mean;
    }
    tokens.push_back(std::move(tt));
  }
  return tokens;
}

}  // namespace imsm
