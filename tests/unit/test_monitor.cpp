// The resource monitor: the host sampler against the kernel's own figures
// (sysconf, a busy loop's CPU time), NVML's absence said in words, the
// sampling thread with an injected sampler, and samples kept with a run in the
// workspace (read back, peaks, through SQLite directly).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

#include "monitor/host_sampler.h"
#include "monitor/nvml.h"
#include "monitor/resource_monitor.h"
#include "recipes/run_life.h"
#include "store/run_report.h"
#include "store/workspace.h"
#include "test_util.h"
#include "util/table.h"

using imsm::testing::TempDir;
namespace store = imsm::store;
using namespace std::chrono_literals;

// The process's CPU share against the process's own CPU clock over the same
// span (clock_gettime(CLOCK_PROCESS_CPUTIME_ID)), not against a fixed floor:
// on a loaded machine a spinning thread gets less than a core.
TEST(HostSampler, ReadsTheKernelsFigures) {
  auto cpu_seconds = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  };
  imsm::HostSampler host;
  const double cpu0 = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  volatile double sink = 0;
  while (std::chrono::steady_clock::now() - start < 400ms) sink = sink + std::sqrt(static_cast<double>(sink) + 1.0);  // one core busy
  const double expected = 100.0 * (cpu_seconds() - cpu0) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  imsm::ResourceSample s;
  host.sample(s);
  // /proc counts in clock ticks (10 ms: 2.5 points of 400 ms at each end), and the sampler's span starts at
  // its construction, a little before ours: 10 points either way.
  EXPECT_NEAR(s.cpu_percent, expected, 10.0) << "the process's own CPU clock says " << expected << "%";
  EXPECT_GT(expected, 5.0) << "the spinning thread ran";
  const int64_t physical = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  EXPECT_NEAR(static_cast<double>(s.host_total_bytes), static_cast<double>(physical), physical * 0.02);  // MemTotal vs the page count
  EXPECT_GT(s.host_used_bytes, 0);
  EXPECT_LT(s.host_used_bytes, s.host_total_bytes);
  EXPECT_GT(s.rss_bytes, 1 << 20);  // a test binary holds more than a MiB
  EXPECT_LT(s.rss_bytes, s.host_total_bytes);
}

// Without the driver's library the sampler says so and gives no GPU; with one (a GPU machine), every GPU reads.
TEST(NvmlSampler, SaysWhyThereIsNoGpuReading) {
  imsm::NvmlSampler nvml;
  imsm::ResourceSample s;
  nvml.sample(s);
  if (!nvml.available()) {
    EXPECT_TRUE(s.gpus.empty());
    EXPECT_EQ(s.gpu_problem, nvml.problem());
    EXPECT_NE(nvml.problem().find("libnvidia-ml.so.1"), std::string::npos) << nvml.problem();
    return;
  }
  ASSERT_FALSE(s.gpus.empty()) << s.gpu_problem;
  for (const auto& g : s.gpus) {
    EXPECT_GT(g.memory_total_bytes, 0);
    EXPECT_LE(g.memory_used_bytes, g.memory_total_bytes);
    EXPECT_FALSE(g.name.empty());
  }
}

TEST(ResourceMonitor, SamplesOnItsThreadAndStopsAtOnce) {
  std::atomic<int> calls{0};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> other_thread{true};
  auto sampler = [&] {
    if (std::this_thread::get_id() == caller) other_thread = false;
    imsm::ResourceSample s;
    s.rss_bytes = ++calls;
    return s;
  };
  const auto start = std::chrono::steady_clock::now();
  {
    imsm::ResourceMonitor monitor(sampler, 20ms);
    while (monitor.version() < 5) std::this_thread::sleep_for(5ms);
    const auto taken = monitor.take_unrecorded();
    ASSERT_GE(taken.size(), 5u);
    for (size_t i = 0; i < taken.size(); ++i) EXPECT_EQ(taken[i].rss_bytes, static_cast<int64_t>(i + 1));  // in order, none lost
    for (size_t i = 1; i < taken.size(); ++i) EXPECT_GT(taken[i].seconds, taken[i - 1].seconds);
    EXPECT_LE(monitor.take_unrecorded().size(), 1u);  // taken once
    const auto newest = monitor.recent(0);  // the last 0 s before the newest: the newest alone
    ASSERT_EQ(newest.size(), 1u);
    EXPECT_GE(newest[0].rss_bytes, taken.back().rss_bytes);
    EXPECT_GE(monitor.recent(1e9).size(), taken.size());  // every sample kept
    imsm::ResourceMonitor slow(sampler, 1h);  // stopping does not wait for the interval
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(other_thread);
}

// A run's samples go to the workspace (at the end here: the run is shorter than the 10 s between writes) and
// come back with their GPUs; the peak is the largest of them, checked against SQLite directly.
TEST(ResourceMonitor, KeepsARunsSamplesInTheWorkspace) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  store::Workspace ws(path);
  const int64_t id = ws.create_run({"train", "r", "", "", "{}", "cpu", "", 1, 0});
  std::atomic<int> n{0};
  imsm::RunLife life;
  life.resource_sampler = [&] {
    const int k = ++n;
    imsm::ResourceSample s;
    s.cpu_percent = 50;
    s.rss_bytes = int64_t{100} << 20 | k;
    s.host_total_bytes = int64_t{8} << 30;
    s.host_used_bytes = int64_t{2} << 30;
    if (k == 2) s.gpu_problem = "NVML, GPU 0: GPU is lost";
    else s.gpus.push_back({0, "Test GPU", 75.0, (int64_t{k} << 30), int64_t{80} << 30, 61, -1});
    return s;
  };
  imsm::record_run(ws, id, [&] {
    while (n < 3) std::this_thread::sleep_for(50ms);  // three samples, one a second
    return imsm::RunEnd{};
  }, life);
  const auto samples = ws.resource_samples(id);
  ASSERT_GE(samples.size(), 3u);
  EXPECT_EQ(samples[0].gpus.size(), 1u);
  EXPECT_EQ(samples[0].gpus[0].name, "Test GPU");
  EXPECT_DOUBLE_EQ(samples[0].gpus[0].temperature_c, 61);
  EXPECT_DOUBLE_EQ(samples[0].gpus[0].power_w, -1);  // not reported: NULL, read back as -1
  EXPECT_TRUE(samples[1].gpus.empty());
  EXPECT_EQ(samples[1].gpu_problem, "NVML, GPU 0: GPU is lost");
  const int last = static_cast<int>(samples.size());
  const store::ResourcePeak peak = ws.resource_peak(id);
  EXPECT_EQ(peak.gpu_memory_bytes, int64_t{last} << 30);
  EXPECT_EQ(peak.rss_bytes, (int64_t{100} << 20) | last);
  EXPECT_EQ(store::peak_memory_text(peak), imsm::format_bytes(static_cast<double>(int64_t{last} << 30)) + " GPU");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*), max(memory_used_bytes) FROM gpu_samples WHERE run_id = 1", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), last - 1);  // every sample but the one NVML failed
  EXPECT_EQ(sqlite3_column_int64(st, 1), int64_t{last} << 30);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}
