#include "resource_view.h"

#include <QLabel>
#include <QTimer>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>

#include "export.h"
#include "plot_style.h"
#include "util/table.h"

namespace imsm::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024 * 1024;

QString bytes(int64_t b) { return QString::fromStdString(format_bytes(static_cast<double>(b))); }
}  // namespace

ResourceView::ResourceView(ResourceSampler sampler, std::chrono::milliseconds interval, QWidget* parent) : QWidget(parent) {
  host_ = new QLabel(tr("Waiting for the first sample…"), this);
  gpu_ = new QLabel(this);
  gpu_->setTextFormat(Qt::PlainText);
  host_plot_ = new QCustomPlot(this);
  gpu_plot_ = new QCustomPlot(this);
  for (QCustomPlot* p : {host_plot_, gpu_plot_}) {
    style_plot(p);
    add_plot_menu(p);
    p->xAxis->setLabel(tr("seconds ago"));
    p->legend->setVisible(true);
    p->yAxis2->setVisible(true);
  }
  host_plot_->yAxis->setLabel(tr("CPU (% of one core)"));
  host_plot_->yAxis2->setLabel(tr("memory (GiB)"));
  host_plot_->addGraph(host_plot_->xAxis, host_plot_->yAxis)->setName(tr("CPU, this process"));
  host_plot_->addGraph(host_plot_->xAxis, host_plot_->yAxis2)->setName(tr("resident memory, this process"));
  host_plot_->addGraph(host_plot_->xAxis, host_plot_->yAxis2)->setName(tr("used memory, the machine"));
  for (int i = 0; i < 3; ++i) host_plot_->graph(i)->setPen(QPen(series_colour(i), 1.6, i == 2 ? Qt::DashLine : Qt::SolidLine));
  host_plot_->setToolTip(tr("The workbench process (the worker runs in it): CPU in % of one core, resident memory; and the machine's used memory"));
  gpu_plot_->yAxis->setLabel(tr("GPU utilisation (%)"));
  gpu_plot_->yAxis2->setLabel(tr("GPU memory used (GiB)"));
  gpu_plot_->setToolTip(tr("Each GPU through NVML: utilisation (kernels running) and memory used by every process on it"));
  gpu_plot_->hide();
  gpu_->hide();

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(host_);
  layout->addWidget(host_plot_, 1);
  layout->addWidget(gpu_);
  layout->addWidget(gpu_plot_, 1);

  monitor_ = std::make_unique<ResourceMonitor>(std::move(sampler), interval);
  timer_ = new QTimer(this);
  timer_->setInterval(std::max<int>(100, static_cast<int>(interval.count() / 2)));
  connect(timer_, &QTimer::timeout, this, &ResourceView::redraw);
  timer_->start();
}

ResourceView::~ResourceView() = default;

void ResourceView::redraw() {
  if (monitor_->version() == seen_) return;
  seen_ = monitor_->version();
  const std::vector<ResourceSample> samples = monitor_->recent(kWindowSeconds);  // not a day's history every second
  if (samples.empty()) return;
  const ResourceSample& last = samples.back();
  const double now = last.seconds;
  for (int i = 0; i < 3; ++i) host_plot_->graph(i)->data()->clear();
  for (int i = 0; i < gpu_plot_->graphCount(); ++i) gpu_plot_->graph(i)->data()->clear();
  for (const ResourceSample& s : samples) {
    const double x = s.seconds - now;  // ≤ 0: seconds before the newest sample
    host_plot_->graph(0)->addData(x, s.cpu_percent);
    host_plot_->graph(1)->addData(x, s.rss_bytes / kGiB);
    host_plot_->graph(2)->addData(x, s.host_used_bytes / kGiB);
    for (const GpuSample& g : s.gpus) {
      while (gpu_plot_->graphCount() < 2 * (g.index + 1)) {  // utilisation and memory per GPU
        const int k = gpu_plot_->graphCount();
        QCPGraph* graph = gpu_plot_->addGraph(gpu_plot_->xAxis, k % 2 ? gpu_plot_->yAxis2 : gpu_plot_->yAxis);
        graph->setPen(QPen(series_colour(k / 2), 1.6, k % 2 ? Qt::DashLine : Qt::SolidLine));
        graph->setName(k % 2 ? tr("GPU %1 memory").arg(k / 2) : tr("GPU %1 utilisation").arg(k / 2));
      }
      gpu_plot_->graph(2 * g.index)->addData(x, g.utilization_percent);
      gpu_plot_->graph(2 * g.index + 1)->addData(x, g.memory_used_bytes / kGiB);
    }
  }
  show_host(last);
  const auto with_gpus = std::find_if(samples.rbegin(), samples.rend(), [](const ResourceSample& s) { return !s.gpus.empty(); });
  show_gpus(with_gpus == samples.rend() ? nullptr : &*with_gpus, last);
  double cpu_most = 100;  // several busy cores read over 100%
  for (const auto& point : *host_plot_->graph(0)->data()) cpu_most = std::max(cpu_most, point.value * 1.1);
  host_plot_->yAxis->setRange(0, cpu_most);
  gpu_plot_->yAxis->setRange(0, 100);
  for (QCustomPlot* p : {host_plot_, gpu_plot_}) p->xAxis->setRange(-std::min(kWindowSeconds, std::max(10.0, now)), 0);
  host_plot_->yAxis2->setRange(0, std::max(1.0, last.host_total_bytes / kGiB));
  gpu_plot_->yAxis2->rescale();
  gpu_plot_->yAxis2->setRangeLower(0);
  host_plot_->replot(QCustomPlot::rpQueuedReplot);
  if (gpu_plot_->isVisible() || gpu_seen_) gpu_plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ResourceView::show_host(const ResourceSample& s) {
  host_->setText(tr("This process: CPU %1% · resident %2   —   machine: %3 used of %4")
                     .arg(s.cpu_percent, 0, 'f', 0)
                     .arg(bytes(s.rss_bytes), bytes(s.host_used_bytes), bytes(s.host_total_bytes)));
  if (!gpu_seen_) host_->setToolTip(s.gpu_problem.empty() ? QString() : tr("No GPU part: %1").arg(QString::fromStdString(s.gpu_problem)));
}

// The newest reading with GPUs: shown, greyed with NVML's message when a later sample has none (a GPU that fell
// off the bus); never one: hidden, the host label's tooltip says why.
void ResourceView::show_gpus(const ResourceSample* reading, const ResourceSample& last) {
  if (!reading) return;
  gpu_seen_ = true;
  gpu_stale_ = reading != &last;
  QStringList lines;
  for (const GpuSample& g : reading->gpus) {
    QString line = tr("GPU %1 %2: %3% · %4 of %5").arg(g.index).arg(QString::fromStdString(g.name)).arg(g.utilization_percent, 0, 'f', 0)
                       .arg(bytes(g.memory_used_bytes), bytes(g.memory_total_bytes));
    if (g.temperature_c >= 0) line += tr(" · %1 °C").arg(g.temperature_c, 0, 'f', 0);
    if (g.power_w >= 0) line += tr(" · %1 W").arg(g.power_w, 0, 'f', 0);
    lines << line;
  }
  gpu_->setText(lines.join("\n"));
  gpu_->setStyleSheet(gpu_stale_ ? "color: gray" : "");
  gpu_->setToolTip(gpu_stale_ ? tr("No reading since these values: %1").arg(QString::fromStdString(last.gpu_problem))
                              : tr("NVML, sampled about once a second"));
  gpu_->show();
  gpu_plot_->show();
}

}  // namespace imsm::ui
