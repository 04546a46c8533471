// A progress bar with ETA on stderr: redrawn in place on a terminal, a line
// every few seconds otherwise (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "util/run_protocol.h"

namespace imsm::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();  // ends the line
  // done of total units; `detail` follows the bar ("loss 2.31 lr 3e-4").
  void update(int64_t done, int64_t total, double eta_seconds, const std::string& detail);
  // One optimizer step: "epoch 2 loss 1.2345 lr 3.00e-04 |g| 0.812 1520 tok/s" (|g| when measured).
  void update(const StepRecord& step);

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

std::string format_duration(double seconds);  // "1:05:09", "4:02"

// `imsm --events`: progress, steps and events also go to stdout as JSON lines
// (util/event_lines.h), for a program that drives imsm (the workbench).
void set_event_lines(bool on);
Hooks with_requested_event_lines(Hooks hooks);  // `hooks`, writing event lines too under --events

}  // namespace imsm::cli
