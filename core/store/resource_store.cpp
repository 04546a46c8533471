// The workspace's resource samples: the machine's load while a run ran
// (schema 4: resource_samples, and gpu_samples per GPU and sample).
#include <algorithm>

#include "store/sqlite.h"
#include "store/workspace.h"

namespace imsm::store {

void Workspace::add_resource_samples(int64_t run_id, const std::vector<ResourceSample>& rows) {
  if (rows.empty()) return;
  sql::Transaction tx(*db_);
  auto host = db_->prepare(
      "INSERT INTO resource_samples(run_id, seconds, cpu_percent, rss_bytes, host_used_bytes, host_total_bytes, gpu_problem) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  auto gpu = db_->prepare(
      "INSERT INTO gpu_samples(run_id, seconds, gpu_index, name, utilization_percent, memory_used_bytes, memory_total_bytes, "
      "temperature_c, power_w) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (const ResourceSample& s : rows) {
    host.bind_all(run_id, s.seconds, s.cpu_percent, s.rss_bytes, s.host_used_bytes, s.host_total_bytes);
    host.bind_or_null(7, s.gpu_problem, s.gpu_problem.empty());
    host.run();
    host.reset();
    for (const GpuSample& g : s.gpus) {
      gpu.bind_all(run_id, s.seconds, g.index, g.name, g.utilization_percent, g.memory_used_bytes, g.memory_total_bytes);
      gpu.bind_or_null(8, g.temperature_c, g.temperature_c < 0).bind_or_null(9, g.power_w, g.power_w < 0);
      gpu.run();
      gpu.reset();
    }
  }
  tx.commit();
}

std::vector<ResourceSample> Workspace::resource_samples(int64_t run_id) const {
  std::vector<ResourceSample> out;
  if (!db_->has_table("resource_samples")) return out;  // a workspace of schema 3 opened read-only
  auto host = db_->prepare(
      "SELECT seconds, cpu_percent, rss_bytes, host_used_bytes, host_total_bytes, gpu_problem FROM resource_samples WHERE run_id = ?1 "
      "ORDER BY seconds");
  host.bind(1, run_id);
  while (host.step()) {
    ResourceSample s;
    s.seconds = host.real(0);
    s.cpu_percent = host.real(1);
    s.rss_bytes = host.int64(2);
    s.host_used_bytes = host.int64(3);
    s.host_total_bytes = host.int64(4);
    if (!host.is_null(5)) s.gpu_problem = host.text(5);
    out.push_back(std::move(s));
  }
  auto gpu = db_->prepare(
      "SELECT seconds, gpu_index, name, utilization_percent, memory_used_bytes, memory_total_bytes, temperature_c, power_w "
      "FROM gpu_samples WHERE run_id = ?1 ORDER BY seconds, gpu_index");
  gpu.bind(1, run_id);
  auto at = out.begin();
  while (gpu.step()) {
    const double seconds = gpu.real(0);
    at = std::lower_bound(at, out.end(), seconds, [](const ResourceSample& s, double t) { return s.seconds < t; });
    if (at == out.end() || at->seconds != seconds) continue;  // a GPU row belongs to the host row of the same time
    at->gpus.push_back({static_cast<int>(gpu.int64(1)), gpu.text(2), gpu.real(3), gpu.int64(4), gpu.int64(5),
                        gpu.is_null(6) ? -1.0 : gpu.real(6), gpu.is_null(7) ? -1.0 : gpu.real(7)});
  }
  return out;
}

ResourcePeak Workspace::resource_peak(int64_t run_id) const {
  ResourcePeak peak;
  if (!db_->has_table("resource_samples")) return peak;
  auto host = db_->prepare("SELECT max(rss_bytes) FROM resource_samples WHERE run_id = ?1");
  host.bind(1, run_id);
  if (host.step() && !host.is_null(0)) peak.rss_bytes = host.int64(0);
  auto gpu = db_->prepare("SELECT max(memory_used_bytes) FROM gpu_samples WHERE run_id = ?1");
  gpu.bind(1, run_id);
  if (gpu.step() && !gpu.is_null(0)) peak.gpu_memory_bytes = gpu.int64(0);
  return peak;
}

}  // namespace imsm::store
