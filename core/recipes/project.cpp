#include "recipes/project.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "dist/launch.h"
#include "dist/process_group.h"
#include "io/json_file.h"
#include "recipes/environment.h"
#include "recipes/loaded_model.h"
#include "recipes/eval_record.h"
#include "recipes/make_data.h"
#include "recipes/train.h"
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
std::string folder_name(const std::string& label) {
  const std::string cubed = ")³";
  std::string text;  // (IA)³ -> (IA3)
  for (size_t i = 0; i < label.size();) {
    if (label.compare(i, cubed.size(), cubed) == 0) {
      text += "3)";
      i += cubed.size();
    } else {
      text += label[i++];
    }
  }
  std::string out;
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

ProjectPlan plan_project(const std::string& path) {
  const auto j = json::read_file(path);
  json::require_known_keys(j, {"name", "model", "workspace", "output_dir", "data", "suite", "train", "runs", "seeds", "report", "mix_alphas"}, path);
  const fs::path base = fs::absolute(path).parent_path();
  ProjectPlan plan;
  plan.name = json::get_string_or(j, "name", fs::path(path).stem().string(), path);
  plan.model = resolve(base, json::get_string(j, "model", path));
  plan.output_dir = resolve(base, json::get_string_or(j, "output_dir", "../runs/" + plan.name, path));
  const std::string& out = plan.output_dir;
  plan.workspace = resolve(base, json::get_string_or(j, "workspace", out + "/workspace.imsm", path));
  plan.report = resolve(fs::path(out), json::get_string_or(j, "report", "report.html", path));
  plan.suite_file = out + "/suite.json";
  if (!fs::exists(fs::path(plan.model) / "config.json")) throw_bad_input(path, "key \"model\": no model at " + plan.model);

  if (j.contains("mix_alphas")) {  // the α-sweep of every adapter trained without a gate
    const auto& alphas = j["mix_alphas"];
    if (!alphas.is_array() || alphas.empty() || !std::all_of(alphas.begin(), alphas.end(), [](const auto& a) { return a.is_number(); }))
      throw_bad_input(path, "key \"mix_alphas\" must be a list of numbers in [0, 1], e.g. [0.25, 0.5, 0.75]");
    plan.mix_alphas = alphas.get<std::vector<double>>();
    check_mix_alphas(plan.mix_alphas, path + ": key \"mix_alphas\"");
  }

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
      for (const char* key : {"gate_probe_data", "test_data_path", "replay_data", "ewc_data"})  // keys of "data", like train.data
        if (c.contains(key)) {
          const std::string name = c[key].is_string() ? c[key].get<std::string>() : "";
          if (!data_files.count(name)) throw_bad_input(path, std::string(key) + " \"" + name + "\" is not a key of \"data\"");
          c[key] = data_files[name];
        }
      if (c.contains("eval_suite")) {  // during training: the project's own suite, or none
        if (c["eval_suite"] != "suite" && c["eval_suite"] != "")
          throw_bad_input(path, "eval_suite: in a project, \"suite\" (evaluate the project's suite during training) or \"\"");
        if (c["eval_suite"] == "suite") c["eval_suite"] = plan.suite_file;
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

namespace {

// The id of a finished training run of the workspace with exactly this
// configuration whose adapter is still there; 0 if none.
int64_t finished_run_of(const std::string& workspace, const TrainConfig& c) {
  const store::Workspace ws(workspace, store::Workspace::Mode::ReadOnly);
  const std::string want = c.to_json().dump();
  int64_t id = 0;
  for (const auto& r : ws.runs())
    if (r.kind == "train" && r.status == RunStatus::Finished && r.config_json == want && fs::exists(fs::path(c.output_dir) / "adapter")) id = r.id;
  return id;
}

// Started by torchrun: every process walks the same matrix in step. Rank 0
// makes the data, decides which runs the workspace already has, records and
// reports; the others train and evaluate their shares and write nothing. The
// processes of several nodes share the output folder (a shared filesystem).
struct Processes {
  std::unique_ptr<dist::ProcessGroup> group;  // null: one process
  bool writer = true;
  void stop_if_asked(const Hooks& hooks) const {
    if (dist::any_rank_aborted(group.get(), hooks)) throw Error(ErrorKind::Cancelled, "project cancelled; run it again to continue where it stopped");
  }
};

Processes join_processes(const ProjectPlan& plan) {
  Processes p;
  const dist::Launch launch = dist::launch_from_environment();
  p.writer = launch.writer();
  if (!launch.distributed()) return p;
  const std::string device = plan.runs.empty() ? "cpu" : on_this_process({plan.model, "", plan.runs.front().device, "auto"}).device;
  p.group = dist::ProcessGroup::join(launch, torch::Device(device), dist::collective_timeout());
  return p;
}

// Trains every run of the matrix the workspace has not finished yet; progress
// in thousandths of a run over the matrix, with an ETA from the runs trained.
void train_matrix(const ProjectPlan& plan, const Processes& processes, ProjectSummary& s, const Hooks& hooks) {
  const std::vector<TrainConfig>& configs = plan.runs;
  const auto start = std::chrono::steady_clock::now();
  int64_t trained = 0;
  for (size_t k = 0; k < configs.size(); ++k) {
    processes.stop_if_asked(hooks);
    const TrainConfig& c = configs[k];
    const std::string label = report::method_label(c.to_json().dump()) + " seed " + std::to_string(c.seed) + " (" + std::to_string(k + 1) +
                              "/" + std::to_string(configs.size()) + ")";
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto eta_after = [&](size_t runs) { return trained ? elapsed / static_cast<double>(trained) * static_cast<double>(runs) : 0.0; };
    const int64_t total = static_cast<int64_t>(configs.size()) * 1000;
    hooks.progress({"train", static_cast<int64_t>(k) * 1000, total, label, eta_after(configs.size() - k)});
    int64_t reuse = processes.writer ? finished_run_of(s.workspace, c) : 0;
    if (processes.group) reuse = std::stoll(dist::from_writer(*processes.group, std::to_string(reuse)));
    if (reuse) {
      ++s.reused_runs;
      s.train_run_ids.push_back(reuse);
      continue;
    }
    if (!processes.writer) {  // in step with rank 0, silently
      Hooks follower;
      follower.should_abort = hooks.should_abort;
      run_train(c, follower);
      continue;
    }
    Hooks run_hooks = hooks;
    int64_t done = static_cast<int64_t>(k) * 1000;  // the run's position, in thousandths of a run
    double eta = eta_after(configs.size() - k);
    run_hooks.on_step = [&](const StepRecord& p) {
      hooks.step(p);
      char loss[48];
      std::snprintf(loss, sizeof(loss), " step %lld/%lld loss %.3f", static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss);
      done = static_cast<int64_t>(k) * 1000 + p.step * 1000 / std::max<int64_t>(1, p.total_steps);
      eta = p.eta_seconds + eta_after(configs.size() - k - 1);
      hooks.progress({"train", done, total, label + loss, eta});
    };
    run_hooks.on_progress = [&](const Progress& p) {  // evaluation during training: the run's position stays
      hooks.progress({"train", done, total, label + " " + p.detail + " (" + std::to_string(p.done) + "/" + std::to_string(p.total) + ")", eta});
    };
    const auto rec = run_train_recorded(s.workspace, c, run_hooks);
    if (rec.summary.status != RunStatus::Finished) throw Error(ErrorKind::Internal, label + ": training " + status_name(rec.summary.status));
    s.train_run_ids.push_back(rec.run_id);
    ++trained;
  }
}

// The suite for the base model and every adapter, where the project trains
// (its "train" keys device, dtype).
void evaluate_matrix(const ProjectPlan& plan, const Processes& processes, ProjectSummary& s, const Hooks& hooks) {
  processes.stop_if_asked(hooks);
  SuiteRequest q;
  q.suite = plan.suite_file;
  q.model_dir = plan.model;
  for (const TrainConfig& c : plan.runs) {
    q.adapters.push_back((fs::path(c.output_dir) / "adapter").string());
    if (c.variant == "none") q.mix_adapters.push_back(q.adapters.back());  // WiSE-FT: the PEFT method's adapter along α
  }
  q.mix_alphas = plan.mix_alphas;
  if (q.mix_adapters.empty()) q.mix_alphas.clear();
  if (processes.writer) {
    q.workspace = s.workspace;
    q.reuse = finished_suite_runs(q);  // a project run again adds no copies of its evaluations
  }
  if (processes.group) {  // the others evaluate their shares of what rank 0 does not reuse, unrecorded
    const auto reuse = nlohmann::json::parse(dist::from_writer(*processes.group, nlohmann::json(q.reuse).dump()));
    q.reuse = reuse.get<std::vector<int64_t>>();
  }
  for (int64_t id : q.reuse) s.reused_evaluations += id != 0;
  if (!plan.runs.empty()) {
    q.device = plan.runs.front().device;
    q.dtype = plan.runs.front().dtype;
  }
  Hooks suite_hooks;
  suite_hooks.should_abort = hooks.should_abort;
  suite_hooks.on_progress = [&](const Progress& p) { hooks.progress({"eval", p.done, p.total, p.stage, 0}); };
  s.eval_run_ids = run_suite(q, suite_hooks).run_ids;
}

// The report: HTML, and Markdown + CSV beside it.
void write_reports(const ProjectSummary& s) {
  const store::Workspace ws(s.workspace, store::Workspace::Mode::ReadOnly);
  const report::Environment env = report_environment();
  report::Options o;
  o.run_ids = s.eval_run_ids;
  o.run_ids.insert(o.run_ids.end(), s.train_run_ids.begin(), s.train_run_ids.end());
  const fs::path stem = fs::path(s.report).replace_extension("");
  report::write_reports(ws, o, env, {s.report, stem.string() + ".md", stem.string() + ".csv"});
}

}  // namespace

std::vector<std::string> project_inputs(const ProjectPlan& plan) {
  std::vector<std::string> files;
  for (const auto& [key, request] : plan.data) files.push_back(request.out);
  files.push_back(plan.suite_file);
  return files;
}

void make_project_inputs(const ProjectPlan& plan, bool missing_only, const Hooks& hooks) {
  auto wanted = [&](const std::string& file) { return !missing_only || !fs::is_regular_file(file); };
  std::error_code error;
  if (!fs::create_directories(plan.output_dir + "/data", error) && error)
    throw_bad_input(plan.output_dir + "/data", "cannot make the project's data folder (" + error.message() + "): check output_dir");
  int64_t made = 0;
  for (const auto& [key, request] : plan.data) {
    hooks.progress({"data", made++, static_cast<int64_t>(plan.data.size()), key, 0});
    if (wanted(request.out)) make_data(request);
  }
  if (wanted(plan.suite_file)) json::write_file(plan.suite_file, plan.suite);
}

ProjectSummary run_project(const std::string& path, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  const ProjectPlan plan = plan_project(path);
  const Processes processes = join_processes(plan);
  ProjectSummary s;
  s.workspace = plan.workspace;
  s.report = plan.report;

  if (processes.writer) {
    make_project_inputs(plan, false, hooks);
    { store::Workspace ws(s.workspace); }  // made, or refused early when the file is not a workspace
  }
  if (processes.group) processes.group->barrier();  // the data is there for every process

  train_matrix(plan, processes, s, hooks);
  evaluate_matrix(plan, processes, s, hooks);
  if (processes.writer) {
    hooks.progress({"report", 0, 1, s.report, 0});
    write_reports(s);
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return s;
}

}  // namespace imsm
