#include "live_run.h"

namespace imsm::ui {

void LiveRun::begin(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t v = s_.version + 1;
  s_ = LiveSnapshot{};
  s_.version = v;
  s_.name = name;
  s_.phase = "starting";
}

void LiveRun::set_run_id(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.run_id = run_id;
  ++s_.version;
}

void LiveRun::add(const StepRecord& p) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.points.push_back(p);
  s_.step = p.step;
  s_.total_steps = p.total_steps;
  s_.eta_seconds = p.eta_seconds;
  s_.phase = "training";
  ++s_.version;
}

void LiveRun::add(const ValidationRecord& v) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.validation.push_back(v);
  s_.phase = "validating";
  ++s_.version;
}

void LiveRun::set_best_step(int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.best_step = step;
  ++s_.version;
}

void LiveRun::set_phase(const std::string& phase) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.phase = phase;
  ++s_.version;
}

void LiveRun::set_progress(int64_t done, int64_t total, double eta_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.step = done;
  s_.total_steps = total;
  s_.eta_seconds = eta_seconds;
  ++s_.version;
}

LiveSnapshot LiveRun::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_;
}

uint64_t LiveRun::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_.version;
}

}  // namespace imsm::ui
