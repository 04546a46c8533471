#include "run_worker.h"

#include <exception>

#include "recipes/project.h"
#include "recipes/train_record.h"
#include "util/error.h"

namespace imsm::ui {

RunWorker::RunWorker(LiveRun* live, QObject* parent) : QObject(parent), live_(live) { thread_ = std::thread([this] { loop(); }); }

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

void RunWorker::execute(const Job& job) {
  live_->begin(job.name.toStdString());
  emit job_started(job.name);
  qint64 run_id = 0;
  Hooks hooks;
  hooks.should_abort = [this] { return abort_.load(); };
  hooks.on_event = [&](const RunEvent& e) {
    if (e.kind != RunEvent::Kind::RunCreated) return;
    run_id = e.run_id;
    live_->set_run_id(e.run_id);
    emit run_created(e.run_id);
  };
  hooks.on_step = [this](const StepRecord& p) { live_->add(p); };
  QString status, message;
  try {
    switch (job.kind) {
      case Job::Kind::Train:
        status = status_name(run_train_recorded(job.workspace.toStdString(), job.config, hooks).summary.status);
        break;
      case Job::Kind::Resume:
        status = status_name(resume_train_run(job.workspace.toStdString(), job.run_id, hooks).summary.status);
        break;
      case Job::Kind::Project: {
        Hooks project = hooks;
        project.on_event = {};  // the project's runs come and go; the live view follows its stages
        project.on_step = {};
        project.on_progress = [this](const Progress& p) {
          live_->set_phase(p.stage + ": " + p.detail);
          live_->set_progress(p.done, p.total, p.eta_seconds);
        };
        run_project(job.project.toStdString(), project);
        status = status_name(RunStatus::Finished);
        break;
      }
    }
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    status = status_name(error && error->kind() == ErrorKind::Cancelled ? RunStatus::Cancelled : RunStatus::Failed);
    message = QString::fromUtf8(e.what());
  }
  live_->set_phase(status.toStdString());
  running_ = false;  // before the signal: its receivers see the worker idle
  emit job_finished(job.name, run_id, status, message);
}

}  // namespace imsm::ui
