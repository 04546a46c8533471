#include "tradeoff_plot.h"

#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "export.h"
#include "plot_style.h"

namespace imsm::ui {

TradeoffPlot::TradeoffPlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  style_plot(plot_);
  add_plot_menu(plot_);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->legend->setVisible(true);
  plot_->setToolTip(tr("Right and up is better: more learned, less forgotten. Bars: 95% intervals over the examples and the seeds; "
                       "lines: an adapter at fixed mixes α (α = 0 is the adapter); dashed: the Pareto front"));
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_, 1);
  layout->addWidget(note_);
}

QString TradeoffPlot::note() const { return note_->text(); }

void TradeoffPlot::clear(const QString& message) {
  plot_->clearPlottables();
  plot_->clearItems();
  note_->setText(message);
  plot_->replot();
}

namespace {

// One method's points, with their intervals as error bars both ways and each fixed mix labelled α.
void add_points(QCustomPlot* plot, const report::Tradeoff& t, const std::string& method, const QColor& colour) {
  auto* points = new QCPGraph(plot->xAxis, plot->yAxis);
  points->setName(QString::fromStdString(method));
  points->setLineStyle(QCPGraph::lsNone);
  points->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, colour, 8));
  QVector<double> x, y, xm, xp, ym, yp;
  for (const auto& p : t.points) {
    if (p.method != method) continue;
    x << p.gain.value, y << p.retention.value;
    xm << p.gain.value - p.gain.low, xp << p.gain.high - p.gain.value;
    ym << p.retention.value - p.retention.low, yp << p.retention.high - p.retention.value;
    if (p.alpha >= 0) {
      auto* label = new QCPItemText(plot);
      label->position->setCoords(p.gain.value, p.retention.value);
      label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
      label->setText(QString("  α=%1").arg(p.alpha));
      label->setColor(colour.darker(140));
    }
  }
  points->setData(x, y);
  for (const auto& [type, minus, plus] : {std::tuple{QCPErrorBars::etKeyError, xm, xp}, std::tuple{QCPErrorBars::etValueError, ym, yp}}) {
    auto* bars = new QCPErrorBars(plot->xAxis, plot->yAxis);
    bars->removeFromLegend();
    bars->setErrorType(type);
    bars->setPen(QPen(colour, 1));
    bars->setDataPlottable(points);
    bars->setData(minus, plus);
  }
}

void add_line(QCustomPlot* plot, const report::Tradeoff& t, const std::vector<size_t>& ids, const QPen& pen, const QString& name) {
  auto* curve = new QCPCurve(plot->xAxis, plot->yAxis);
  QVector<double> x, y;
  for (size_t i : ids) x << t.points[i].gain.value, y << t.points[i].retention.value;
  curve->setData(x, y);
  curve->setPen(pen);
  if (name.isEmpty()) curve->removeFromLegend();
  else curve->setName(name);
}

// The points no other beats on both axes, left to right.
std::vector<size_t> pareto_front(const report::Tradeoff& t) {
  std::vector<size_t> front;
  for (size_t i = 0; i < t.points.size(); ++i)
    if (t.points[i].pareto) front.push_back(i);
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return t.points[a].gain.value < t.points[b].gain.value; });
  return front;
}

// The view: every interval and the origin (the base model), with a margin;
// x = 0 and y = 0 dotted, the base model's lines.
void fit_view(QCustomPlot* plot, const report::Tradeoff& t) {
  for (const auto& [dx, dy] : {std::pair{0.0, 1.0}, std::pair{1.0, 0.0}}) {
    auto* zero = new QCPItemStraightLine(plot);
    zero->setPen(QPen(QColor(150, 150, 150), 1, Qt::DotLine));
    zero->point1->setCoords(0, 0);
    zero->point2->setCoords(dx, dy);
  }
  QCPRange x(0, 0), y(0, 0);
  for (const auto& p : t.points) {
    x.expand(p.gain.low), x.expand(p.gain.high);
    y.expand(p.retention.low), y.expand(p.retention.high);
  }
  for (auto [axis, r] : {std::pair{plot->xAxis, x}, std::pair{plot->yAxis, y}}) {
    const double pad = std::max(0.02, r.size() * 0.08);
    axis->setRange(r.lower - pad, r.upper + pad);
  }
}

}  // namespace

void TradeoffPlot::show_tradeoff(const report::Tradeoff& t) {
  clear(t.points.empty() ? tr("No trade-off picture: %1.").arg(QString::fromStdString(t.why_empty)) : QString());
  if (t.points.empty()) return;
  QString kept;
  for (const auto& b : t.retention) kept += (kept.isEmpty() ? "" : ", ") + QString::fromStdString(b);
  plot_->xAxis->setLabel(tr("gain on %1 (%2, vs. the base model)").arg(QString::fromStdString(t.target), QString::fromStdString(t.target_metric)));
  plot_->yAxis->setLabel(tr("retention change (mean of %1)").arg(kept));
  std::map<std::string, int> colour_of;  // a colour per method
  for (const auto& p : t.points) colour_of.emplace(p.method, static_cast<int>(colour_of.size()));
  for (const auto& [method, index] : colour_of) add_points(plot_, t, method, series_colour(index));
  for (const auto& c : t.curves)
    add_line(plot_, t, c.points, QPen(series_colour(colour_of.at(t.points[c.points.front()].method)), 1.5), {});
  const std::vector<size_t> front = pareto_front(t);
  if (front.size() > 1) add_line(plot_, t, front, QPen(QColor(60, 60, 60), 1.2, Qt::DashLine), tr("Pareto front"));
  fit_view(plot_, t);
  note_->setText(tr("%n configuration(s); the points are written beside a CSV report as NAME.tradeoff.csv (File > Export report…).", nullptr,
                    static_cast<int>(t.points.size())));
  plot_->replot();
}

}  // namespace imsm::ui
