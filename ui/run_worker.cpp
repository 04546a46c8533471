#include "run_worker.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <exception>

#include "dist/torchrun.h"
#include "io/json_file.h"
#include "recipes/project.h"
#include "recipes/train_record.h"
#include "store/workspace.h"
#include "util/error.h"

namespace imsm::ui {

RunWorker::RunWorker(LiveRun* live, QObject* parent) : QObject(parent), live_(live) {
  qRegisterMetaType<RunStatus>();  // job_finished crosses from the worker's thread to the window's
  thread_ = std::thread([this] { loop(); });
}

RunWorker::~RunWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  abort_ = true;
  cv_.notify_all();
  thread_.join();
}

void RunWorker::enqueue(Job job) {
  int n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    n = static_cast<int>(queue_.size());
  }
  cv_.notify_one();
  emit queue_changed(n);
}

void RunWorker::cancel() { abort_ = running_.load(); }

void RunWorker::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
  }
  emit queue_changed(0);
  cancel();
}

bool RunWorker::busy() const { return running_; }

int RunWorker::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

void RunWorker::loop() {
  for (;;) {
    Job job;
    int left = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      left = static_cast<int>(queue_.size());
      abort_ = false;
      running_ = true;
    }
    emit queue_changed(left);
    execute(job);
  }
}

namespace {

dist::TorchrunJob torchrun_job(int processes) {
  dist::TorchrunJob t;
  t.torchrun = dist::torchrun_path(IMSM_DEFAULT_TORCHRUN);
  t.imsm = QDir(QCoreApplication::applicationDirPath()).filePath("imsm").toStdString();  // beside the workbench in build/bin
  t.processes = processes;
  return t;
}

}  // namespace

bool gguf_import_available() {
#ifdef IMSM_WITH_GGUF
  return true;
#else
  return false;
#endif
}

QString multi_process_problem(int processes) {
  if (processes <= 1) return {};
  const dist::TorchrunJob t = torchrun_job(processes);
  if (!QFileInfo::exists(QString::fromStdString(t.torchrun)))
    return QObject::tr("%1 processes need torchrun, not found at %2: run installer/setup-venv.sh or set IMSM_TORCHRUN")
        .arg(processes)
        .arg(QString::fromStdString(t.torchrun));
  if (!QFileInfo::exists(QString::fromStdString(t.imsm)))
    return QObject::tr("%1 processes need the imsm executable beside the workbench (%2): build it").arg(processes).arg(QString::fromStdString(t.imsm));
  return {};
}

namespace {
// How many processes the job runs on: its own setting, a resumed run's checkpoint's, else 1.
int processes_of(const Job& job) {
  if (const auto* t = std::get_if<TrainJob>(&job.work)) return t->processes;
  if (const auto* p = std::get_if<ProjectJob>(&job.work)) return p->processes;
  if (const auto* r = std::get_if<ResumeJob>(&job.work)) return processes_to_resume(r->workspace.toStdString(), r->run_id);
  return 1;
}
}  // namespace

void RunWorker::execute(const Job& job) {
  live_->begin(job.name.toStdString());
  emit job_started(job.name);
  const auto* resume = std::get_if<ResumeJob>(&job.work);
  qint64 run_id = resume ? resume->run_id : 0;
  Hooks hooks;
  hooks.should_abort = [this] { return abort_.load(); };
  if (std::holds_alternative<TrainJob>(job.work) || resume) {  // one run: its steps and events
    hooks.on_event = [&](const RunEvent& e) {
      if (e.kind == RunEvent::Kind::Validation) live_->add(e.validation);
      if (e.kind == RunEvent::Kind::BestAdapter) live_->set_best_step(e.step);
      if (e.kind != RunEvent::Kind::RunCreated) return;
      run_id = e.run_id;
      live_->set_run_id(e.run_id);
      emit run_created(e.run_id);
    };
    hooks.on_step = [this](const StepRecord& p) { live_->add(p); };
  } else {  // a project's runs come and go, exports and imports have none, evaluations no steps: the live view follows their stages
    hooks.on_progress = [this](const Progress& p) {
      live_->set_phase(p.stage + ": " + p.detail);
      live_->set_progress(p.done, p.total, p.eta_seconds);
    };
  }
  RunStatus status = RunStatus::Failed;
  QString message;
  try {
    const int processes = processes_of(job);
    status = processes > 1 ? run_on_processes(job, processes, hooks, run_id, message) : run_here(job, hooks, message);
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    status = error && error->kind() == ErrorKind::Cancelled ? RunStatus::Cancelled : RunStatus::Failed;
    message = QString::fromUtf8(e.what());
  }
  live_->set_phase(status_name(status));
  running_ = false;  // before the signal: its receivers see the worker idle
  emit job_finished(job.name, run_id, status, message);
}

RunStatus RunWorker::run_here(const Job& job, const Hooks& hooks, QString& message) {
  if (const auto* t = std::get_if<TrainJob>(&job.work)) return run_train_recorded(t->workspace.toStdString(), t->config, hooks).summary.status;
  if (const auto* r = std::get_if<ResumeJob>(&job.work)) return resume_train_run(r->workspace.toStdString(), r->run_id, hooks).summary.status;
  if (const auto* p = std::get_if<ProjectJob>(&job.work)) {
    run_project(p->project.toStdString(), hooks);
    return RunStatus::Finished;
  }
  if (const auto* e = std::get_if<ExportJob>(&job.work)) {
    message = QString::fromStdString(run_export(e->request, hooks).note);
    return RunStatus::Finished;
  }
  if (const auto* v = std::get_if<EvaluateJob>(&job.work)) {
    message = QString::fromStdString(run_runs_eval(v->request, hooks).summary);
    return RunStatus::Finished;
  }
  const ImportGgufRequest& import = std::get<ImportGgufJob>(job.work).request;
#ifdef IMSM_WITH_GGUF
  const ImportGgufResult r = run_import_gguf(import, hooks);
  message = QString::fromStdString(r.note);
  emit model_imported(QString::fromStdString(r.out_dir));
  return RunStatus::Finished;
#else
  throw_bad_input(import.gguf_path, "this build has no GGUF support: run installer/setup-llama-cpp.sh, then configure and build again");
#endif
}

// `imsm` under torchrun; the run's status is what rank 0 recorded in the
// workspace (a project's: its exit code).
RunStatus RunWorker::run_on_processes(const Job& job, int processes, const Hooks& hooks, const qint64& run_id, QString& message) {
  if (const QString problem = multi_process_problem(processes); !problem.isEmpty()) throw_bad_input("processes", problem.toStdString());
  dist::TorchrunJob t = torchrun_job(processes);
  QTemporaryDir scratch;  // the configuration handed to the processes
  QString workspace;  // where the run records its status
  if (const auto* train = std::get_if<TrainJob>(&job.work)) {
    const std::string config = scratch.filePath("train_config.json").toStdString();
    json::write_file(config, train->config.to_json());
    workspace = train->workspace;
    t.args = {"train", "--config", config, "--workspace", workspace.toStdString()};
  } else if (const auto* resume = std::get_if<ResumeJob>(&job.work)) {
    workspace = resume->workspace;
    t.args = {"runs", "resume", std::to_string(resume->run_id), "--workspace", workspace.toStdString()};
  } else if (const auto* project = std::get_if<ProjectJob>(&job.work)) {
    t.args = {"project", project->project.toStdString()};
  } else {
    throw_bad_input("processes", "exports, imports and evaluations of runs run in one process");
  }
  const dist::TorchrunOutcome outcome = dist::run_torchrun(t, hooks);
  message = QString::fromStdString(outcome.error).remove(QRegularExpression("^imsm: (error: )?"));
  if (run_id && !workspace.isEmpty()) {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    const RunStatus recorded = ws.run(run_id).status;
    if (recorded != RunStatus::Running && recorded != RunStatus::Queued) return recorded;
  }
  if (outcome.exit_code == 0) return RunStatus::Finished;
  return outcome.cancelled || outcome.exit_code == 130 ? RunStatus::Cancelled : RunStatus::Failed;
}

}  // namespace imsm::ui
