// The run protocol: how every long piece of work of the engine (training,
// pretraining, evaluation, suites, projects, generation) reports to whoever
// drives it — the CLI's progress bar, the workbench's worker, the workspace —
// and how it is stopped. Torch-free and Qt-free: every layer includes it.
//
// The cancel rule: should_abort() is polled between steps (an optimizer step,
// a batch, a generated token). When it returns true the work saves what
// resuming needs (training: a checkpoint, announced as a Checkpoint event) and
// throws Error(ErrorKind::Cancelled); nothing returns a half-done result.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace imsm {

// A run's life in the workspace: queued -> running -> finished | failed |
// cancelled | diverged; a process that died leaves running, which the next
// writer of the workspace turns into interrupted.
enum class RunStatus { Queued, Running, Finished, Failed, Cancelled, Diverged, Interrupted };
const char* status_name(RunStatus status);                       // as stored: "finished", ...
std::optional<RunStatus> parse_run_status(const std::string& name);  // nullopt for a name this version does not know
bool is_final(RunStatus status);    // finished, failed, cancelled, diverged
bool can_resume(RunStatus status);  // interrupted, cancelled, failed: a training run continues from its checkpoint

// One optimizer step, from the trainer to the workspace and the window.
struct StepRecord {
  int64_t step = 0, total_steps = 0, epoch = 0;  // step: 1-based, counted from the run's start (resumes included)
  double loss = 0, learning_rate = 0, grad_norm = 0, tokens_per_second = 0, eta_seconds = 0;
  double gate_mean = -1;  // IMSM: the mean gate on the probe examples, measured ~50 times a run; < 0 at other steps
};

// Stages of work that are not optimizer steps ("loading", "evaluating",
// "data", "report", ...).
struct Progress {
  Progress(std::string stage_ = {}, int64_t done_ = 0, int64_t total_ = 0, std::string detail_ = {}, double eta_seconds_ = -1)
      : stage(std::move(stage_)), done(done_), total(total_), detail(std::move(detail_)), eta_seconds(eta_seconds_) {}
  std::string stage;
  int64_t done = 0;
  int64_t total = 0;         // 0 when unknown
  std::string detail;        // for people: "IMSM(LoRA) seed 2 (3/12)"; may be empty
  double eta_seconds = -1;   // < 0: the receiver estimates it
};

// One score of an evaluation during training, at an optimizer step: the
// held-out set's ("Loss": nats per answer token, and the task's metrics) or a
// retention benchmark's (a forgetting curve).
struct ValidationRecord {
  int64_t step = 0, epoch = 0;
  std::string benchmark, metric;
  double value = 0;
};

// Things that happened which the driver may record.
struct RunEvent {
  enum class Kind { RunCreated, Checkpoint, Validation, BestAdapter };
  Kind kind = Kind::RunCreated;
  int64_t run_id = 0;  // RunCreated: the workspace's id, before the work starts
  std::string path;    // Checkpoint, BestAdapter: the folder written
  int64_t step = 0;    // Checkpoint, BestAdapter: the optimizer step it holds
  ValidationRecord validation = {};  // Validation: the score
};

// The one hooks struct of the engine API; every member may be empty.
struct Hooks {
  std::function<void(const Progress&)> on_progress;
  std::function<void(const StepRecord&)> on_step;
  std::function<void(const RunEvent&)> on_event;
  std::function<bool()> should_abort;

  void progress(const Progress& p) const { if (on_progress) on_progress(p); }
  void step(const StepRecord& s) const { if (on_step) on_step(s); }
  void event(const RunEvent& e) const { if (on_event) on_event(e); }
  bool aborted() const { return should_abort && should_abort(); }
  // Throws Error(Cancelled, message) when should_abort() says so.
  void check_abort(const std::string& message) const;
};

}  // namespace imsm
