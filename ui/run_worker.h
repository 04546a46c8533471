// The background worker: one thread that executes queued jobs one after
// another through the engine's recipes (the same ones `imsm train`,
// `imsm runs resume` and `imsm project` call). Progress goes into a LiveRun
// (under its mutex); signals tell the window that a job started or ended.
// Cancel sets a flag the engine polls every step, so it takes effect within
// one step. Exports of a run's model and evaluations of runs run here too, one stage at a time. The GUI thread never runs the engine.
//
// A job on several processes (a run trained under torchrun, or resumed from
// such a run's checkpoint) runs as `imsm` under the venv's torchrun
// (dist/torchrun.h): rank 0's steps and events reach the LiveRun the same way,
// and Cancel stops every rank at one step.
#pragma once
#include <QObject>
#include <QString>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "config/train_config.h"
#include "live_run.h"
#include "recipes/evaluate_runs.h"
#include "recipes/export.h"
#include "recipes/import_gguf.h"

namespace imsm::ui {

// The kinds of work the worker runs, each with what it needs and nothing else.
struct TrainJob {  // a new run, recorded in the workspace
  QString workspace;
  TrainConfig config;
  int processes = 1;  // > 1: under torchrun
};
struct ResumeJob {  // an interrupted run, on as many processes as its checkpoint was made by
  QString workspace;
  qint64 run_id = 0;
};
struct ProjectJob {  // a whole experiment file
  QString project;
  int processes = 1;
};
struct ExportJob {  // a finished run's adapter merged (or copied) into a model folder
  ExportRequest request;
};
struct EvaluateJob {  // training runs and their base models on a suite or a dataset
  RunsEvalRequest request;
};
struct ImportGgufJob {  // a GGUF file written as a Hugging Face model folder
  ImportGgufRequest request;
};

struct Job {
  QString name;  // for people: "LoRA seed 1"
  std::variant<TrainJob, ResumeJob, ProjectJob, ExportJob, EvaluateJob, ImportGgufJob> work;
};

// Whether this build imports GGUF files (llama.cpp's ggml was found when it was configured).
bool gguf_import_available();

// Why a job cannot run on `processes` processes here ("" when it can): the
// venv's torchrun or the imsm executable is missing.
QString multi_process_problem(int processes);

class RunWorker : public QObject {
  Q_OBJECT
 public:
  explicit RunWorker(LiveRun* live, QObject* parent = nullptr);
  ~RunWorker() override;  // cancels everything and waits for the thread

  void enqueue(Job job);
  void cancel();      // the running job
  void cancel_all();  // the queue and the running job
  bool busy() const;  // a job is running
  int pending() const;

 signals:
  void job_started(const QString& name);
  void run_created(qint64 run_id);
  // status: Finished, Cancelled, Diverged or Failed; message: the engine's, for failed and cancelled, and for
  // a finished export what it wrote.
  void job_finished(const QString& name, qint64 run_id, imsm::RunStatus status, const QString& message);
  void queue_changed(int pending);
  // An ImportGguf job wrote this model folder whole (emitted before job_finished).
  void model_imported(const QString& dir);

 private:
  void loop();
  void execute(const Job& job);
  RunStatus run_here(const Job& job, const Hooks& hooks, QString& message);  // the final status
  RunStatus run_on_processes(const Job& job, int processes, const Hooks& hooks, const qint64& run_id, QString& message);

  LiveRun* live_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::atomic<bool> running_{false};
  std::atomic<bool> abort_{false};
  std::thread thread_;
};

}  // namespace imsm::ui
