#include "recipes/train_record.h"

#include <chrono>
#include <filesystem>

#include "dist/launch.h"
#include "io/json_file.h"
#include "recipes/run_life.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

// Per-step metrics reach the workspace in short transactions: every second,
// and before each checkpoint is recorded (so a checkpoint's steps are never
// missing after a crash).
class MetricsWriter {
 public:
  MetricsWriter(store::Workspace& ws, int64_t run_id) : ws_(ws), run_id_(run_id) {}
  void add(const StepRecord& p) {
    pending_.push_back(p);
    if (std::chrono::steady_clock::now() - last_ > std::chrono::seconds(1)) flush();
  }
  void flush() {
    ws_.add_train_metrics(run_id_, pending_);
    pending_.clear();
    last_ = std::chrono::steady_clock::now();
  }

 private:
  store::Workspace& ws_;
  int64_t run_id_;
  std::vector<StepRecord> pending_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

RecordedTrain record_training(store::Workspace& ws, int64_t run_id, const TrainConfig& config, const Hooks& hooks) {
  hooks.event({RunEvent::Kind::RunCreated, run_id, "", 0});
  MetricsWriter metrics(ws, run_id);
  RecordedTrain out;
  out.run_id = run_id;
  Hooks recording = hooks;
  recording.on_step = [&](const StepRecord& p) {
    metrics.add(p);
    hooks.step(p);
  };
  int64_t checkpoint_step = 0;
  recording.on_event = [&](const RunEvent& e) {
    if (e.kind == RunEvent::Kind::Checkpoint) {
      metrics.flush();
      ws.set_checkpoint(run_id, e.path);
      checkpoint_step = e.step;
    }
    if (e.kind == RunEvent::Kind::Validation) ws.add_validation(run_id, {e.validation});
    if (e.kind == RunEvent::Kind::BestAdapter) ws.add_artifact(run_id, "best-adapter", e.path);
    hooks.event(e);
  };
  RunLife life;
  life.before_end = [&] { metrics.flush(); };
  life.cancelled_note = [&](const std::string&) {
    return "stopped at step " + std::to_string(checkpoint_step) + "; resume with: imsm runs resume " + std::to_string(run_id);
  };
  record_run(ws, run_id, [&] {
    out.summary = run_train(config, recording);
    const auto& s = out.summary;
    if (s.status == RunStatus::Finished) {
      ws.add_artifact(run_id, "adapter", s.adapter_dir);
      ws.add_artifact(run_id, "config", (fs::path(config.output_dir) / "train_config.json").string());
    }
    std::string message = s.status == RunStatus::Diverged ? "loss not finite at step " + std::to_string(s.steps) : "";
    if (s.stopped_early)
      message = "stopped early at step " + std::to_string(s.steps) + " of " + std::to_string(s.total_steps) + ": no better held-out " +
                config.best_metric + " in " + std::to_string(config.early_stopping_patience) + " evaluations";
    if (!s.best_adapter_dir.empty())
      message += (message.empty() ? "" : "; ") + std::string("best held-out ") + config.best_metric + " at step " + std::to_string(s.best_step) +
                 ": " + s.best_adapter_dir;
    return RunEnd{s.status, message};
  }, life);
  return out;
}

std::string run_name(const TrainConfig& c) {
  const std::string data = c.dataset.empty() ? fs::path(c.data_path).stem().string() : c.dataset;
  return data + " " + method_name(c.peft) + (c.variant == GateVariant::None ? "" : " + IMSM " + variant_name(c.variant));
}

}  // namespace

RecordedTrain run_train_recorded(const std::string& workspace, const TrainConfig& given, const Hooks& hooks) {
  // Paths are recorded absolute, so `imsm runs resume` works from any folder.
  TrainConfig config = given;
  for (std::string* p : {&config.model_path, &config.data_path, &config.test_data_path, &config.eval_suite, &config.output_dir})
    if (!p->empty()) *p = fs::absolute(*p).lexically_normal().string();
  store::Workspace ws(workspace);
  store::NewRun r;
  r.kind = "train";
  r.name = run_name(config);
  r.model_path = config.model_path;
  r.dataset_path = config.data_path;
  r.config_json = config.to_json().dump();
  r.seed = static_cast<int64_t>(config.seed);
  r.device = config.device.text();
  r.output_dir = config.output_dir;
  return record_training(ws, ws.create_run(r), config, hooks);
}

namespace {

// The run's configuration, set to continue from its last checkpoint.
TrainConfig resume_config(const store::RunRecord& run, const std::string& where) {
  TrainConfig config = parse_train_config(json::parse(run.config_json, where), where);
  config.resume_from = run.last_checkpoint;
  return config;
}

}  // namespace

RecordedTrain resume_train_run(const std::string& workspace, int64_t run_id, const Hooks& hooks) {
  const std::string where = workspace + ": run " + std::to_string(run_id);
  if (!dist::launch_from_environment().writer()) {  // a torchrun rank other than 0: in step with rank 0, which checked and records
    const store::Workspace ws(workspace, store::Workspace::Mode::ReadOnly);
    return {run_id, run_train(resume_config(ws.run(run_id), where), hooks)};
  }
  store::Workspace ws(workspace);  // opening marks the run interrupted when its process died
  const store::RunRecord run = ws.run(run_id);
  if (run.kind != "train") throw_bad_input(where, "is an evaluation; only training runs resume");
  if (run.status == RunStatus::Finished) throw_bad_input(where, "already finished");
  if (run.status == RunStatus::Running) throw_bad_input(where, "is still running in another process");
  if (run.status == RunStatus::Diverged) throw_bad_input(where, "diverged; start a new run with a lower learning_rate instead");
  const TrainConfig config = resume_config(run, where);
  if (config.resume_from.empty()) log::info("run " + std::to_string(run_id) + " has no checkpoint: training starts over");
  else log::info("resuming run " + std::to_string(run_id) + " from " + config.resume_from);
  return record_training(ws, run_id, config, hooks);
}

int processes_to_resume(const std::string& workspace, int64_t run_id) {
  const store::Workspace ws(workspace, store::Workspace::Mode::ReadOnly);
  const std::string checkpoint = ws.run(run_id).last_checkpoint;
  const fs::path state = fs::path(checkpoint) / "trainer_state.json";
  if (checkpoint.empty() || !fs::exists(state)) return 1;
  return static_cast<int>(json::get_int_or(json::read_file(state.string()), "processes", 1, state.string()));
}

}  // namespace imsm
