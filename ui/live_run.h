// The run that is executing now, as plain data: the worker thread appends
// progress under a mutex; the window takes a snapshot on its redraw timer
// (data arrival and redraw rate are independent). No Qt, no torch.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "util/run_protocol.h"

namespace imsm::ui {

struct LiveSnapshot {
  uint64_t version = 0;  // changes with every write: redraw only when it moved
  int64_t run_id = 0;    // 0: none yet
  std::string name, phase;  // phase: "queued", "training", "finished", ...
  int64_t step = 0, total_steps = 0;
  double eta_seconds = 0;
  std::vector<StepRecord> points;  // the training's steps so far, as the trainer reported them
  std::vector<ValidationRecord> validation;  // its evaluations during training so far
  int64_t best_step = 0;                     // the best adapter's step (0: none yet)
};

class LiveRun {
 public:
  void begin(const std::string& name);
  void set_run_id(int64_t run_id);
  void add(const StepRecord& p);
  void add(const ValidationRecord& v);
  void set_best_step(int64_t step);
  void set_phase(const std::string& phase);
  void set_progress(int64_t done, int64_t total, double eta_seconds);  // work without loss points (a project's stages)
  LiveSnapshot snapshot() const;
  uint64_t version() const;

 private:
  mutable std::mutex mu_;
  LiveSnapshot s_;
};

}  // namespace imsm::ui
