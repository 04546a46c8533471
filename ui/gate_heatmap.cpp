#include "gate_heatmap.h"

#include <QVBoxLayout>

#include <qcustomplot.h>

#include "export.h"
#include "plot_style.h"
#include "report/gate_colour.h"

namespace imsm::ui {

GateHeatmap::GateHeatmap(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  style_plot(plot_);
  add_plot_menu(plot_);
  plot_->yAxis->setLabel(tr("hidden dimension"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
}

void GateHeatmap::set_gate(const GateMatrix& m, const QString& title) {
  plot_->clearPlottables();
  plot_->xAxis->setLabel(m.unit == "token" ? tr("generated token") : QString::fromStdString(m.unit));
  plot_->setToolTip(tr("%1: one column per %2, one row per hidden dimension. Wheel to zoom, drag to pan.")
                        .arg(title, QString::fromStdString(m.unit)));
  if (m.tokens > 0 && m.dims > 0) {
    auto* map = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    const int n = static_cast<int>(m.tokens), d = static_cast<int>(m.dims);
    map->data()->setSize(n, d);
    map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, d - 1));
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < d; ++k) map->data()->setCell(i, k, m.g[static_cast<size_t>(i) * m.dims + static_cast<size_t>(k)]);
    QCPColorGradient gradient;
    for (const double g : {0.0, 0.5, 1.0}) {  // the gate's one colour map, linear between these stops
      const report::Rgb c = report::gate_rgb(g);
      gradient.setColorStopAt(g, QColor(c.r, c.g, c.b));
    }
    map->setGradient(gradient);
    map->setDataRange(QCPRange(0, 1));
    map->setInterpolate(false);
    plot_->rescaleAxes();
  }
  plot_->replot();
}

}  // namespace imsm::ui
