#include "training_view.h"

#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include "export.h"
#include "io/json_file.h"
#include "plot_style.h"
#include "recipes/validation.h"
#include "runs_model.h"
#include "store/workspace.h"

namespace imsm::ui {

TrainingView::TrainingView(QWidget* parent) : QWidget(parent) {
  loss_ = new QCustomPlot(this);
  lr_ = new QCustomPlot(this);
  gate_ = new QCustomPlot(this);
  validation_ = new QCustomPlot(this);
  for (QCustomPlot* p : {loss_, lr_, gate_, validation_}) {
    style_plot(p);
    add_plot_menu(p);
  }
  loss_->xAxis->setLabel(tr("step"));
  loss_->yAxis->setLabel(tr("training loss (nats/token)"));
  loss_->legend->setVisible(true);
  loss_->setToolTip(tr("Cross-entropy of the answer tokens per optimizer step; dashed with dots: the held-out set's (test_data_path), "
                       "where the run evaluated it. Drag to pan, wheel to zoom."));
  lr_->xAxis->setLabel(tr("step"));
  lr_->yAxis->setLabel(tr("learning rate"));
  lr_->setMaximumHeight(160);
  gate_->xAxis->setLabel(tr("step"));
  gate_->yAxis->setLabel(tr("mean gate"));
  gate_->setMaximumHeight(180);
  gate_->setToolTip(tr("IMSM runs: the mean gate over the answer tokens of a fixed probe — the first gate_probe_examples of gate_probe_data "
                       "(a validation file; by default the training data). "
                       "The gate weighs the original memory: 1 = all original, 0 = all fine-tuned."));
  validation_->xAxis->setLabel(tr("step"));
  validation_->yAxis->setLabel(tr("score during training"));
  validation_->legend->setVisible(true);
  validation_->setMaximumHeight(220);
  validation_->setToolTip(tr("Evaluations during training: the held-out set's headline metric and each retention benchmark of eval_suite "
                             "against the step — a falling retention curve is forgetting as it happens. The dotted vertical line marks "
                             "the best adapter's step (best_metric)."));
  hint_ = new QCPItemText(loss_);
  hint_->position->setType(QCPItemPosition::ptAxisRectRatio);
  hint_->position->setCoords(0.5, 0.45);
  hint_->setText(tr("Select training runs in the Runs table (Ctrl+click for several)\n"
                    "to plot their loss, learning rate and mean gate"));
  hint_->setColor(QColor(128, 128, 128));  // readable on light and dark palettes
  QFont font = hint_->font();
  font.setPointSizeF(font.pointSizeF() * 1.2);
  hint_->setFont(font);
  caption_ = new QLabel(this);
  caption_->setContentsMargins(6, 2, 6, 0);
  caption_->hide();
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(caption_);
  layout->addWidget(loss_, 3);
  layout->addWidget(lr_, 1);
  layout->addWidget(gate_, 1);
  layout->addWidget(validation_, 1);
  redraw();
}

QString TrainingView::hint() const { return hint_->visible() ? hint_->text() : QString(); }

QString TrainingView::caption() const { return caption_->isHidden() ? QString() : caption_->text(); }

namespace {
// The newest training runs that have begun (the running one included), oldest first.
QList<qint64> latest_training_runs(const store::Workspace& ws, int most) {
  QList<qint64> ids;
  const auto runs = ws.runs();
  for (auto r = runs.rbegin(); r != runs.rend() && ids.size() < most; ++r)
    if (r->kind == "train" && r->status != RunStatus::Queued) ids.prepend(r->id);
  return ids;
}
}  // namespace

void TrainingView::show_runs(const QString& workspace, const QList<qint64>& selected) {
  QMap<qint64, Curve> curves;
  bool latest = false;
  bool any_run = false;
  if (!workspace.isEmpty()) {
    store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    const QList<qint64> newest = latest_training_runs(ws, kLatestRuns);
    const QList<qint64> ids = selected.isEmpty() ? newest : selected;
    latest = selected.isEmpty() && !newest.isEmpty();
    any_run = !newest.isEmpty();
    for (qint64 id : ids) {
      const auto run = ws.run(id);
      if (run.kind != "train") continue;
      Curve c;
      c.label = run_title(run);
      for (const auto& m : ws.train_metrics(id)) add_point(c, m);
      add_validation(c, ws.validation(id));
      for (const auto& a : ws.artifacts(id))
        if (a.kind == "best-adapter" && QString::fromStdString(a.path).endsWith("/best.json")) {
          try {
            c.best_step = json::get_int(json::read_file(a.path), "step", a.path);
          } catch (const std::exception&) {
            // moved or removed since: no mark
          }
        }
      curves.insert(id, c);
    }
  }
  if (live_id_ && curves_.contains(live_id_) && curves.contains(live_id_) && curves_[live_id_].step.size() > curves[live_id_].step.size())
    curves[live_id_] = curves_[live_id_];  // the live curve is ahead of what was flushed
  curves_ = curves;
  caption_->setText(latest ? tr("The %n latest training run(s) of the workspace; select runs in the Runs table to plot others", nullptr,
                                static_cast<int>(curves_.size()))
                           : QString());
  caption_->setVisible(latest);
  hint_->setText(any_run ? tr("Select training runs in the Runs table (Ctrl+click for several)\n"
                              "to plot their loss, learning rate and mean gate")
                         : tr("No training run in this workspace yet:\nRun → New run… (Ctrl+N) or Run → Run project… (Ctrl+P)"));
  redraw();
}

void TrainingView::update_live(const LiveSnapshot& live) {
  live_id_ = live.run_id;
  if (!live.run_id || !curves_.contains(live.run_id)) return;  // shown only when its run is selected
  Curve& c = curves_[live.run_id];
  c = Curve{c.label, {}, {}, {}, {}, {}, {}, {}, live.best_step};
  for (const auto& p : live.points) add_point(c, p);
  add_validation(c, live.validation);
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

void TrainingView::add_validation(Curve& c, const std::vector<ValidationRecord>& records) {
  QString held_out_metric;  // the held-out set's headline: its first metric after the loss
  for (const ValidationRecord& r : records) {
    const bool held_out = r.benchmark == kHeldOut;
    if (held_out && r.metric == "Loss") {
      c.held_out_loss.step << static_cast<double>(r.step);
      c.held_out_loss.value << r.value;
      continue;
    }
    if (held_out && held_out_metric.isEmpty()) held_out_metric = QString::fromStdString(r.metric);
    if (held_out && held_out_metric != QString::fromStdString(r.metric)) continue;
    Series& s = c.scores[QString::fromStdString(r.benchmark + " " + r.metric)];
    s.step << static_cast<double>(r.step);
    s.value << r.value;
  }
}

int TrainingView::curve_count() const { return static_cast<int>(curves_.size()); }

void TrainingView::redraw() {
  for (QCustomPlot* p : {loss_, lr_, gate_, validation_}) p->clearGraphs();
  for (QCPItemStraightLine* line : best_lines_) line->parentPlot()->removeItem(line);
  best_lines_.clear();
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
    if (!it->held_out_loss.step.isEmpty()) {
      QCPGraph* h = loss_->addGraph();
      h->setName(it->label + tr(" · held-out"));
      h->setPen(QPen(series_colour(i), 1.6, Qt::DashLine));
      h->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
      h->setData(it->held_out_loss.step, it->held_out_loss.value, true);
    }
    int k = 0;
    for (auto s = it->scores.cbegin(); s != it->scores.cend(); ++s, ++k) {
      QCPGraph* v = validation_->addGraph();
      v->setName(curves_.size() > 1 ? it->label + " · " + s.key() : s.key());
      v->setPen(QPen(series_colour(curves_.size() > 1 ? i : k), 1.6, k == 0 ? Qt::SolidLine : Qt::DashLine));
      v->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
      v->setData(s->step, s->value, true);
    }
    if (it->best_step > 0)
      for (QCustomPlot* p : {loss_, validation_}) {
        auto* line = new QCPItemStraightLine(p);
        line->point1->setCoords(static_cast<double>(it->best_step), 0);
        line->point2->setCoords(static_cast<double>(it->best_step), 1);
        line->setPen(QPen(series_colour(i), 1, Qt::DotLine));
        best_lines_ << line;
      }
  }
  loss_->legend->setVisible(!curves_.isEmpty());
  validation_->legend->setVisible(validation_->graphCount() > 0);
  validation_->setVisible(validation_->graphCount() > 0);
  hint_->setVisible(curves_.isEmpty());
  for (QCustomPlot* p : {loss_, lr_, gate_, validation_}) {
    p->rescaleAxes();
    p->replot(QCustomPlot::rpQueuedReplot);
  }
  gate_->xAxis->setRange(loss_->xAxis->range());
  gate_->yAxis->setRange(0, 1);
  gate_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace imsm::ui
