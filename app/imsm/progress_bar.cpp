#include "progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "util/event_lines.h"
#include "util/table.h"

namespace imsm::cli {

void ProgressBar::update(const StepRecord& p) {
  char detail[160];
  if (p.grad_norm > 0)
    std::snprintf(detail, sizeof(detail), "epoch %lld loss %.4f lr %.2e |g| %.3f %.0f tok/s", static_cast<long long>(p.epoch + 1), p.loss,
                  p.learning_rate, p.grad_norm, p.tokens_per_second);
  else
    std::snprintf(detail, sizeof(detail), "epoch %lld loss %.4f lr %.2e %.0f tok/s", static_cast<long long>(p.epoch + 1), p.loss,
                  p.learning_rate, p.tokens_per_second);
  update(p.step, p.total_steps, p.eta_seconds, detail);
}

std::string format_duration(double seconds) {
  const std::string text = imsm::format_duration(seconds);
  return text.empty() ? "?" : text;
}

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() {
  if (tty_ && drawn_) std::fputc('\n', stderr);
}

void ProgressBar::update(int64_t done, int64_t total, double eta_seconds, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  if (!tty_ && drawn_ && !last && now - last_ < std::chrono::seconds(5)) return;
  last_ = now;
  drawn_ = true;
  constexpr int kWidth = 28;
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
  std::fprintf(stderr, "%s%s [%s] %lld/%lld %3.0f%% ETA %s  %s%s", tty_ ? "\r\033[K" : "", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), 100 * frac, format_duration(eta_seconds).c_str(),
               detail.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

namespace {
bool g_event_lines = false;  // set once by main(), before any work
}  // namespace

void set_event_lines(bool on) { g_event_lines = on; }

Hooks with_requested_event_lines(Hooks hooks) { return g_event_lines ? with_event_lines(std::move(hooks), std::cout) : hooks; }

}  // namespace imsm::cli
