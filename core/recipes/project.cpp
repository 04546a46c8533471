#include "recipes/project.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "io/json_file.h"
#include "recipes/environment.h"
#include "recipes/eval_record.h"
#include "recipes/make_data.h"
#include "recipes/train_record.h"
#include "report/report.h"
#include "report/results.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"
#include "util/process.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

std::string resolve(const fs::path& base, const std::string& p) {
  return (fs::path(p).is_absolute() ? fs::path(p) : base / p).lexically_normal().string();
}

// "IMSM((IA)³)" -> "IMSM-IA3": letters and digits, one '-' between words.
std::string folder_name(std::string label) {
  for (size_t at; (at = label.find(")³")) != std::string::npos;) label.replace(at, std::string(")³").size(), "3)");  // (IA)³ -> (IA3)
  std::string out;
  for (char ch : label) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

ProjectPlan plan_project(const std::string& path) {
  const auto j = json::read_file(path);
  json::require_known_keys(j, {"name", "model", "workspace", "output_dir", "data", "suite", "train", "runs", "seeds", "report"}, path);
  const fs::path base = fs::absolute(path).parent_path();
  ProjectPlan plan;
  plan.name = json::get_string_or(j, "name", fs::path(path).stem().string(), path);
  plan.model = resolve(base, json::get_string(j, "model", path));
  plan.output_dir = resolve(base, json::get_string_or(j, "output_dir", "../runs/" + plan.name, path));
  const std::string& out = plan.output_dir;
  plan.workspace = resolve(base, json::get_string_or(j, "workspace", out + "/workspace.imsm", path));
  plan.report = resolve(fs::path(out), json::get_string_or(j, "report", "report.html", path));
  if (!fs::exists(fs::path(plan.model) / "config.json")) throw_bad_input(path, "key \"model\": no model at " + plan.model);

  // Datasets: make-data requests, written under OUTPUT/data/.
  std::map<std::string, std::string> data_files;
  const auto& data = json::require(j, "data", path);
  if (!data.is_object() || data.empty()) throw_bad_input(path, "key \"data\" must name at least one dataset");
  for (const auto& [key, spec] : data.items()) {
    const std::string where = path + ": data." + key;
    json::require_known_keys(spec, {"task", "count", "seed", "concepts", "max_steps", "max_operand"}, where);
    DataRequest q;
    q.task = json::get_string(spec, "task", where);
    q.count = json::get_int_or(spec, "count", q.count, where);
    q.seed = static_cast<uint64_t>(json::get_int_or(spec, "seed", 1, where));
    q.concepts = json::get_int_or(spec, "concepts", q.concepts, where);
    q.max_steps = json::get_int_or(spec, "max_steps", q.max_steps, where);
    q.max_operand = json::get_int_or(spec, "max_operand", q.max_operand, where);
    q.out = out + "/data/" + key + ".jsonl";
    plan.data.emplace_back(key, q);
    data_files[key] = q.out;
  }

  // The suite, its datasets resolved to the generated files.
  plan.suite = json::require(j, "suite", path);
  auto& suite = plan.suite;
  if (!suite.is_object() || !suite.contains("benchmarks") || !suite["benchmarks"].is_array()) throw_bad_input(path, "key \"suite\" needs \"benchmarks\"");
  suite["name"] = suite.value("name", plan.name);
  for (auto& b : suite["benchmarks"]) {
    const std::string d = b.value("dataset", "");
    if (!data_files.count(d)) throw_bad_input(path, "suite benchmark dataset \"" + d + "\" is not a key of \"data\"");
    b["dataset"] = data_files[d];
  }

  // The run matrix: methods x seeds.
  nlohmann::json train = json::require(j, "train", path);
  if (!train.is_object()) throw_bad_input(path, "key \"train\" must be an object");
  const std::string train_data = train.value("data", "");
  if (!data_files.count(train_data)) throw_bad_input(path, "train.data \"" + train_data + "\" is not a key of \"data\"");
  train.erase("data");
  const auto& runs = json::require(j, "runs", path);
  const auto& seeds = json::require(j, "seeds", path);
  if (!runs.is_array() || runs.empty() || !seeds.is_array() || seeds.empty()) throw_bad_input(path, "\"runs\" and \"seeds\" must be non-empty lists");
  std::map<std::string, size_t> run_of_label;  // one method per label: labels name the folders and the report's rows
  for (size_t i = 0; i < runs.size(); ++i)
    for (const auto& seed : seeds) {
      nlohmann::json c = train;
      c.update(runs[i]);
      c["model_path"] = plan.model;
      c["data_path"] = data_files[train_data];
      if (c.contains("gate_probe_data")) {  // a key of "data", like train.data
        const std::string probe = c["gate_probe_data"].is_string() ? c["gate_probe_data"].get<std::string>() : "";
        if (!data_files.count(probe)) throw_bad_input(path, "gate_probe_data \"" + probe + "\" is not a key of \"data\"");
        c["gate_probe_data"] = data_files[probe];
      }
      c["seed"] = seed;
      c["dataset"] = train_data;
      const std::string label = report::method_label(c.dump());
      const auto [first, added] = run_of_label.emplace(label, i);
      if (!added && first->second != i)
        throw_bad_input(path, "runs[" + std::to_string(i) + "] and runs[" + std::to_string(first->second) + "] are both \"" + label +
                                  "\": their folders and report rows would be one; give each run a \"label\" (e.g. \"" + label + " lr 1e-3\")");
      c["output_dir"] = out + "/" + folder_name(label) + "-seed" + seed.dump();
      plan.runs.push_back(parse_train_config(c, path + ": runs[" + std::to_string(i) + "]"));
      plan.run_labels.push_back(label + " seed " + seed.dump());
    }
  return plan;
}

ProjectSummary run_project(const std::string& path, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  const ProjectPlan plan = plan_project(path);
  const std::string& model = plan.model;
  ProjectSummary s;
  s.workspace = plan.workspace;
  s.report = plan.report;
  auto report = [&](const std::string& stage, const std::string& detail, int64_t done, int64_t total, double eta) {
    hooks.progress({stage, done, total, detail, eta});
  };
  auto abort_check = [&] { hooks.check_abort("project cancelled; run it again to continue where it stopped"); };

  // 1. Datasets.
  fs::create_directories(plan.output_dir + "/data");
  int64_t made = 0;
  for (const auto& [key, q] : plan.data) {
    report("data", key, made++, static_cast<int64_t>(plan.data.size()), 0);
    make_data(q);
  }

  // 2. The suite file.
  const std::string suite_file = plan.output_dir + "/suite.json";
  json::write_file(suite_file, plan.suite);

  // 3. The run matrix.
  const std::vector<TrainConfig>& configs = plan.runs;
  {
    store::Workspace ws(s.workspace);  // refused early if it is not a workspace
  }
  std::vector<std::string> adapters;
  const auto train_start = std::chrono::steady_clock::now();
  int64_t trained = 0;
  for (size_t k = 0; k < configs.size(); ++k) {
    abort_check();
    const TrainConfig& c = configs[k];
    const std::string label = report::method_label(c.to_json().dump()) + " seed " + std::to_string(c.seed);
    int64_t reuse = 0;
    {
      store::Workspace ws(s.workspace);
      const std::string want = c.to_json().dump();
      for (const auto& r : ws.runs())
        if (r.kind == "train" && r.status == RunStatus::Finished && r.config_json == want && fs::exists(fs::path(c.output_dir) / "adapter")) reuse = r.id;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
    const double eta = trained ? elapsed / static_cast<double>(trained) * static_cast<double>(configs.size() - k) : 0;
    report("train", label + " (" + std::to_string(k + 1) + "/" + std::to_string(configs.size()) + ")", static_cast<int64_t>(k) * 1000,
           static_cast<int64_t>(configs.size()) * 1000, eta);
    if (reuse) {
      ++s.reused_runs;
      s.train_run_ids.push_back(reuse);
    } else {
      Hooks run_hooks = hooks;
      run_hooks.on_step = [&](const StepRecord& p) {  // progress in thousandths of a run, over the matrix
        hooks.step(p);
        const double run_eta = p.eta_seconds + (trained ? elapsed / static_cast<double>(trained) * static_cast<double>(configs.size() - k - 1) : 0);
        char loss[48];
        std::snprintf(loss, sizeof(loss), " step %lld/%lld loss %.3f", static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss);
        report("train", label + " (" + std::to_string(k + 1) + "/" + std::to_string(configs.size()) + ")" + loss,
               static_cast<int64_t>(k) * 1000 + p.step * 1000 / std::max<int64_t>(1, p.total_steps), static_cast<int64_t>(configs.size()) * 1000,
               run_eta);
      };
      const auto rec = run_train_recorded(s.workspace, c, run_hooks);
      if (rec.summary.status != RunStatus::Finished)
        throw Error(ErrorKind::Internal, label + ": training " + status_name(rec.summary.status));
      s.train_run_ids.push_back(rec.run_id);
      ++trained;
    }
    adapters.push_back((fs::path(c.output_dir) / "adapter").string());
  }

  // 4. The suite for the base model and every adapter.
  abort_check();
  SuiteRequest q;
  q.suite = suite_file;
  q.model_dir = model;
  q.adapters = adapters;
  q.workspace = s.workspace;
  if (!plan.runs.empty()) {  // the suite runs where the project trains (its "train" keys device, dtype)
    q.device = plan.runs.front().device;
    q.dtype = plan.runs.front().dtype;
  }
  Hooks suite_hooks;
  suite_hooks.should_abort = hooks.should_abort;
  suite_hooks.on_progress = [&](const Progress& p) { report("eval", p.stage, p.done, p.total, 0); };
  const SuiteResult result = run_suite(q, suite_hooks);
  s.eval_run_ids = result.run_ids;

  // 5. The report (HTML, and Markdown + CSV beside it).
  report("report", s.report, 0, 1, 0);
  const store::Workspace ws(s.workspace, store::Workspace::Mode::ReadOnly);
  const report::Environment env = report_environment();
  report::Options o;
  o.run_ids = s.eval_run_ids;
  o.run_ids.insert(o.run_ids.end(), s.train_run_ids.begin(), s.train_run_ids.end());
  report::write_report(ws, o, env, s.report);
  const fs::path stem = fs::path(s.report).replace_extension("");
  report::write_report(ws, o, env, stem.string() + ".md");
  report::write_report(ws, o, env, stem.string() + ".csv");
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return s;
}

}  // namespace imsm
