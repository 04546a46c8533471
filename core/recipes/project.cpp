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
#include "model/device.h"
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
  const DeviceSpec device = plan.runs.empty() ? DeviceSpec::cpu() : on_this_process({plan.model, "", plan.runs.front().device}).device;
  p.group = dist::ProcessGroup::join(launch, torch_device(device), dist::collective_timeout());
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
    if (c.variant == GateVariant::None) q.mix_adapters.push_back(q.adapters.back());  // WiSE-FT: the PEFT method's adapter along α
  }
  q.mix_alphas = plan.mix_alphas;
  if (q.mix_adapters.empty()) q.mix_alphas.clear();
  if (!plan.runs.empty()) q.chat_template = plan.runs.front().chat_template;  // prompts as the runs train on them
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
