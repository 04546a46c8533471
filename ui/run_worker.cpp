#include "run_worker.h"

#include <exception>

#include "recipes/project.h"
#include "recipes/train_record.h"

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
  TrainHooks hooks;
  hooks.should_abort = [this] { return abort_.load(); };
  hooks.on_run_created = [&](int64_t id) {
    run_id = id;
    live_->set_run_id(id);
    emit run_created(id);
  };
  hooks.on_progress = [this](const TrainProgress& p) {
    live_->add({p.step, p.epoch, p.loss, p.learning_rate, p.tokens_per_second, p.gate_mean}, p.total_steps, p.eta_seconds);
  };
  QString status, message;
  try {
    switch (job.kind) {
      case Job::Kind::Train:
        status = QString::fromStdString(run_train_recorded(job.workspace.toStdString(), job.config, hooks).summary.status);
        break;
      case Job::Kind::Resume:
        status = QString::fromStdString(resume_train_run(job.workspace.toStdString(), job.run_id, hooks).summary.status);
        break;
      case Job::Kind::Project: {
        auto on_progress = [this](const ProjectProgress& p) {
          live_->set_phase(p.stage + ": " + p.detail);
          live_->set_progress(p.done, p.total, p.eta_seconds);
        };
        run_project(job.project.toStdString(), on_progress, hooks.should_abort);
        status = "finished";
        break;
      }
    }
  } catch (const std::exception& e) {
    status = abort_ ? "cancelled" : "failed";
    message = QString::fromUtf8(e.what());
  }
  live_->set_phase(status.toStdString());
  running_ = false;  // before the signal: its receivers see the worker idle
  emit job_finished(job.name, run_id, status, message);
}

}  // namespace imsm::ui
