#include "sweep_chart.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMap>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <exception>
#include <map>
#include <set>

#include "export.h"
#include "plot_style.h"
#include "store/workspace.h"

namespace imsm::ui {

SweepChart::SweepChart(const QString& workspace, const QString& sweep, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Sweep %1").arg(sweep));
  key_ = new QComboBox(this);
  key_->setToolTip(tr("The swept key on the horizontal axis; the other swept keys become series"));
  score_ = new QComboBox(this);
  score_->setToolTip(tr("A score of the runs' evaluations (Run > Evaluate runs… adds them)"));
  plot_ = new QCustomPlot(this);
  style_plot(plot_);
  add_plot_menu(plot_);
  plot_->legend->setVisible(true);
  caption_ = new QLabel(this);
  caption_->setWordWrap(true);
  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    data_ = sweep_data(ws, sweep.toStdString());
  } catch (const std::exception& e) {
    caption_->setText(QString::fromUtf8(e.what()));
  }
  for (const std::string& k : data_.keys) key_->addItem(QString::fromStdString(k));
  for (const std::string& s : data_.scores) score_->addItem(QString::fromStdString(s));
  auto* choose = new QHBoxLayout;
  choose->addWidget(new QLabel(tr("Score"), this));
  choose->addWidget(score_, 1);
  choose->addWidget(new QLabel(tr("against"), this));
  choose->addWidget(key_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(choose);
  layout->addWidget(plot_, 1);
  layout->addWidget(caption_);
  resize(720, 480);
  connect(key_, &QComboBox::currentTextChanged, this, &SweepChart::redraw);
  connect(score_, &QComboBox::currentTextChanged, this, &SweepChart::redraw);
  redraw();
}

void SweepChart::show_key(const QString& key, const QString& score) {
  key_->setCurrentText(key);
  score_->setCurrentText(score);
  redraw();
}

QString SweepChart::caption() const { return caption_->text(); }

namespace {

using Series = std::map<std::string, std::map<double, std::vector<double>>>;  // series -> x -> the seeds' values

// Per series, each seed's value as a circle and the mean over the seeds as a
// line (named `unnamed` when no other key is swept).
void add_series(QCustomPlot* plot, const Series& series, const QString& unnamed) {
  int i = 0;
  for (const auto& [name, by_x] : series) {
    QCPGraph* seeds = plot->addGraph();
    seeds->setLineStyle(QCPGraph::lsNone);
    seeds->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, series_colour(i), 6));
    seeds->removeFromLegend();
    QCPGraph* mean = plot->addGraph();
    mean->setPen(QPen(series_colour(i), 1.8));
    mean->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
    mean->setName(name.empty() ? unnamed : QString::fromStdString(name));
    for (const auto& [x, values] : by_x) {
      double sum = 0;
      for (double v : values) {
        seeds->addData(x, v);
        sum += v;
      }
      mean->addData(x, sum / static_cast<double>(values.size()));
    }
    ++i;
  }
}

// Numbers spanning a decade or more on a log axis, text values as categories.
// Returns whether the axis is logarithmic.
bool set_x_axis(QCustomPlot* plot, const std::map<double, QString>& ticks, bool numeric) {
  const bool log = numeric && !ticks.empty() && ticks.begin()->first > 0 && ticks.rbegin()->first / ticks.begin()->first >= 10;
  plot->xAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (log) {
    plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  } else if (!numeric) {
    auto text = QSharedPointer<QCPAxisTickerText>::create();
    for (const auto& [x, label] : ticks) text->addTick(x, label);
    plot->xAxis->setTicker(text);
  } else {
    plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
  }
  return log;
}

void fit_ranges(QCustomPlot* plot, const std::vector<SweepPoint>& points, const std::map<double, QString>& ticks, bool log) {
  plot->rescaleAxes();
  const bool unit_scores = !points.empty() && std::all_of(points.begin(), points.end(), [](const SweepPoint& p) { return p.value >= 0 && p.value <= 1; });
  if (unit_scores) plot->yAxis->setRange(-0.05, 1.05);  // accuracy-like: the whole scale, so flat lines read as what they are
  if (!ticks.empty()) {  // room around the first and last value
    const double lo = ticks.begin()->first, hi = ticks.rbegin()->first;
    if (log) plot->xAxis->setRange(lo / 1.5, hi * 1.5);
    else plot->xAxis->setRange(lo - std::max(0.5, (hi - lo) * 0.1), hi + std::max(0.5, (hi - lo) * 0.1));
  }
}

}  // namespace

void SweepChart::redraw() {
  plot_->clearGraphs();
  const std::string key = key_->currentText().toStdString(), score = score_->currentText().toStdString();
  const std::vector<SweepPoint> points = key.empty() || score.empty() ? std::vector<SweepPoint>{} : sweep_points(data_, key, score);
  Series series;
  std::map<double, QString> ticks;
  bool numeric = true;
  for (const SweepPoint& p : points) {
    series[p.series][p.x].push_back(p.value);
    ticks[p.x] = QString::fromStdString(p.x_text);
    bool parsed = false;  // a category's x is its index, not its text
    const double value = QString::fromStdString(p.x_text).toDouble(&parsed);
    numeric = numeric && parsed && value == p.x;
  }
  add_series(plot_, series, tr("mean over seeds"));
  const bool log = set_x_axis(plot_, ticks, numeric);
  plot_->xAxis->setLabel(QString::fromStdString(key));
  plot_->yAxis->setLabel(QString::fromStdString(score));
  fit_ranges(plot_, points, ticks, log);
  plot_->replot();
  caption_->setText(caption_text(points, score));
}

// How many of the sweep's runs the chart shows, and what to do about the others.
QString SweepChart::caption_text(const std::vector<SweepPoint>& points, const std::string& score) const {
  std::set<int64_t> evaluated;
  for (const SweepPoint& p : points) evaluated.insert(p.run_id);
  const int left = static_cast<int>(data_.runs.size() - evaluated.size());
  QString text = tr("%1 of the sweep's %2 runs scored on %3.").arg(evaluated.size()).arg(data_.runs.size()).arg(QString::fromStdString(score));
  if (data_.scores.empty()) text = tr("No run of this sweep has been evaluated yet: select its runs, then Run → Evaluate runs… (Ctrl+Shift+E).");
  else if (left > 0) text += tr(" %n not evaluated on it (Run → Evaluate runs…).", nullptr, left);
  if (data_.keys.empty() && !data_.runs.empty()) text += tr(" Its runs differ only in their seed.");
  return text;
}

}  // namespace imsm::ui
