#include "training_view.h"

#include <QVBoxLayout>

#include <qcustomplot.h>

#include "export.h"
#include "plot_style.h"
#include "report/results.h"
#include "store/workspace.h"

namespace imsm::ui {

TrainingView::TrainingView(QWidget* parent) : QWidget(parent) {
  loss_ = new QCustomPlot(this);
  lr_ = new QCustomPlot(this);
  gate_ = new QCustomPlot(this);
  for (QCustomPlot* p : {loss_, lr_, gate_}) {
    style_plot(p);
    add_plot_menu(p);
  }
  loss_->xAxis->setLabel(tr("step"));
  loss_->yAxis->setLabel(tr("training loss (nats/token)"));
  loss_->legend->setVisible(true);
  loss_->setToolTip(tr("Cross-entropy of the answer tokens per optimizer step. Drag to pan, wheel to zoom."));
  lr_->xAxis->setLabel(tr("step"));
  lr_->yAxis->setLabel(tr("learning rate"));
  lr_->setMaximumHeight(160);
  gate_->xAxis->setLabel(tr("step"));
  gate_->yAxis->setLabel(tr("mean gate"));
  gate_->setMaximumHeight(180);
  gate_->setToolTip(tr("IMSM runs: the mean gate over the answer tokens of a fixed probe — the first gate_probe_examples of gate_probe_data "
                       "(a validation file; by default the training data). "
                       "The gate weighs the original memory: 1 = all original, 0 = all fine-tuned."));
  hint_ = new QCPItemText(loss_);
  hint_->position->setType(QCPItemPosition::ptAxisRectRatio);
  hint_->position->setCoords(0.5, 0.45);
  hint_->setText(tr("Select training runs in the Runs table (Ctrl+click for several)\n"
                    "to plot their loss, learning rate and mean gate"));
  hint_->setColor(QColor(128, 128, 128));  // readable on light and dark palettes
  QFont font = hint_->font();
  font.setPointSizeF(font.pointSizeF() * 1.2);
  hint_->setFont(font);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(loss_, 3);
  layout->addWidget(lr_, 1);
  layout->addWidget(gate_, 1);
  redraw();
}

QString TrainingView::hint() const { return hint_->visible() ? hint_->text() : QString(); }

void TrainingView::show_runs(const QString& workspace, const QList<qint64>& ids) {
  QMap<qint64, Curve> curves;
  if (!workspace.isEmpty() && !ids.isEmpty()) {
    store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    for (qint64 id : ids) {
      const auto run = ws.run(id);
      if (run.kind != "train") continue;
      Curve c;
      c.label = QString("%1 · %2 seed %3").arg(id).arg(QString::fromStdString(report::method_label(run.config_json))).arg(run.seed);
      for (const auto& m : ws.train_metrics(id)) add_point(c, m);
      curves.insert(id, c);
    }
  }
  if (live_id_ && curves_.contains(live_id_) && curves.contains(live_id_) && curves_[live_id_].step.size() > curves[live_id_].step.size())
    curves[live_id_] = curves_[live_id_];  // the live curve is ahead of what was flushed
  curves_ = curves;
  redraw();
}

void TrainingView::update_live(const LiveSnapshot& live) {
  live_id_ = live.run_id;
  if (!live.run_id || !curves_.contains(live.run_id)) return;  // shown only when its run is selected
  Curve& c = curves_[live.run_id];
  c = Curve{c.label, {}, {}, {}, {}, {}};
  for (const auto& p : live.points) add_point(c, p);
  redraw();
}

void TrainingView::add_point(Curve& c, const StepRecord& p) {
  c.step << static_cast<double>(p.step);
  c.loss << p.loss;
  c.lr << p.learning_rate;
  if (p.gate_mean >= 0) {  // measured at this step
    c.gate_step << static_cast<double>(p.step);
    c.gate << p.gate_mean;
  }
}

int TrainingView::curve_count() const { return loss_->graphCount(); }

void TrainingView::redraw() {
  loss_->clearGraphs();
  lr_->clearGraphs();
  gate_->clearGraphs();
  int i = 0;
  for (auto it = curves_.cbegin(); it != curves_.cend(); ++it, ++i) {
    const QPen pen(series_colour(i), 1.6);
    QCPGraph* g = loss_->addGraph();
    g->setName(it->label);
    g->setPen(pen);
    g->setData(it->step, it->loss, true);
    QCPGraph* l = lr_->addGraph();
    l->setPen(pen);
    l->setData(it->step, it->lr, true);
    if (!it->gate.isEmpty()) {
      QCPGraph* g = gate_->addGraph();
      g->setPen(pen);
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 3));
      g->setData(it->gate_step, it->gate, true);
    }
  }
  loss_->legend->setVisible(!curves_.isEmpty());
  hint_->setVisible(curves_.isEmpty());
  for (QCustomPlot* p : {loss_, lr_, gate_}) {
    p->rescaleAxes();
    p->replot(QCustomPlot::rpQueuedReplot);
  }
  gate_->xAxis->setRange(loss_->xAxis->range());
  gate_->yAxis->setRange(0, 1);
  gate_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace imsm::ui
