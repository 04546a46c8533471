// The machine's load, live: the workbench process's CPU and memory (the
// worker runs in it; a run on several processes runs in child processes,
// counted by their own monitors and kept with the run) and each GPU's
// utilisation, memory, temperature and power through NVML. A ResourceMonitor
// samples about once a second off the GUI thread and keeps the samples under
// its mutex; a QTimer redraws when a new one came. Without NVML the GPU part
// is hidden and the tooltip says why; when NVML fails mid-run (a GPU fell off
// the bus) the last values stay, greyed, with NVML's message.
#pragma once
#include <QString>
#include <QWidget>

#include <chrono>
#include <cstdint>
#include <memory>

#include "monitor/resource_monitor.h"

class QCustomPlot;
class QLabel;
class QTimer;

namespace imsm::ui {

class ResourceView : public QWidget {
  Q_OBJECT
 public:
  static constexpr double kWindowSeconds = 600;  // the plots show the last ten minutes

  explicit ResourceView(ResourceSampler sampler = system_sampler(), std::chrono::milliseconds interval = std::chrono::milliseconds(1000),
                        QWidget* parent = nullptr);
  ~ResourceView() override;

  void redraw();  // the timer's: draws the samples that came since the last call
  QLabel* host_label() const { return host_; }
  QLabel* gpu_label() const { return gpu_; }
  QCustomPlot* host_plot() const { return host_plot_; }
  QCustomPlot* gpu_plot() const { return gpu_plot_; }
  bool gpu_stale() const { return gpu_stale_; }  // NVML failed after a reading: the last values are shown greyed

 private:
  void show_host(const ResourceSample& s);
  void show_gpus(const ResourceSample* reading, const ResourceSample& last);

  std::unique_ptr<ResourceMonitor> monitor_;
  uint64_t seen_ = 0;
  bool gpu_seen_ = false;   // some reading came from NVML
  bool gpu_stale_ = false;
  QLabel *host_, *gpu_;
  QCustomPlot *host_plot_, *gpu_plot_;
  QTimer* timer_;
};

}  // namespace imsm::ui
