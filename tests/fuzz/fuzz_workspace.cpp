// A workspace file (SQLite) that may be damaged or not a workspace at all:
// opened read-only and read through (models, datasets, runs and everything
// recorded for each), then opened for writing (schema check, migration,
// interrupted runs marked) and written to. It must be refused as bad input
// or read; never crash, hang or throw anything else. The seed is a small real
// workspace (two runs, metrics, an evaluation with predictions and gate traces).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "store/workspace.h"
#include "workspace_writes.h"

namespace {

void read_through(const imsm::store::Workspace& ws) {
  (void)ws.models();
  (void)ws.datasets();
  const auto runs = ws.runs();
  for (size_t i = 0; i < std::min<size_t>(runs.size(), 16); ++i) {
    const int64_t id = runs[i].id;
    (void)ws.run(id);
    (void)ws.train_metrics(id);
    (void)ws.validation(id);
    for (const auto& e : ws.evaluations(id)) (void)ws.predictions(id, e.benchmark, true);
    (void)ws.artifacts(id);
    (void)ws.resource_samples(id);
    (void)ws.resource_peak(id);
  }
  (void)ws.run_of_adapter("/nonexistent/adapter");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = imsm::fuzz::write_input(data, size, "-workspace.imsm");
  for (const char* side : {"-wal", "-shm", "-journal"}) std::remove((path + side).c_str());  // the last input's
  imsm::fuzz::expect_clean([&] {
    const imsm::store::Workspace read_only(path, imsm::store::Workspace::Mode::ReadOnly);
    read_through(read_only);
  });
  imsm::fuzz::expect_clean([&] {
    imsm::store::Workspace ws(path, imsm::store::Workspace::Mode::ReadWrite);
    imsm::fuzz::write_a_failed_run(ws);
    read_through(ws);
  });
  return 0;
}
