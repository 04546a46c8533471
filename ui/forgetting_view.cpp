#include "forgetting_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QtConcurrent/QtConcurrent>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

#include "export.h"
#include "plot_style.h"
#include "tradeoff_plot.h"
#include "report/report.h"
#include "report/results.h"
#include "store/workspace.h"

namespace imsm::ui {

ForgettingView::ForgettingView(QWidget* parent) : QWidget(parent) {
  caption_ = new QLabel(this);
  plot_ = new QCustomPlot(this);
  style_plot(plot_);
  add_plot_menu(plot_);
  plot_->setInteractions(QCP::Interactions());
  plot_->yAxis->setLabel(tr("score (mean over seeds, ± std)"));
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);  // low task bars sit on the left
  plot_->setToolTip(tr("Each benchmark's headline metric for the base model and each method. Bars lower than Base on the "
                       "knowledge probes are forgetting; IMSM aims to keep them while learning the new task."));
  table_ = new QTableWidget(this);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  tradeoff_ = new TradeoffPlot(this);
  tabs_ = new QTabWidget(this);
  tabs_->addTab(plot_, tr("Scores"));
  tabs_->addTab(tradeoff_, tr("Learning vs forgetting"));
  tabs_->setTabToolTip(1, tr("Each configuration's gain on the fine-tuning task against its change on the other benchmarks, with "
                             "95% intervals; adapters at fixed mixes α as lines; the Pareto front"));
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(tabs_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(caption_);
  layout->addWidget(split);
  connect(&significance_, &QFutureWatcher<Tests>::finished, this, [this] {
    const Tests tests = significance_.result();
    show_changes(&tests.sig);
    tradeoff_->show_tradeoff(tests.trade);
    emit significance_ready();
  });
}

QString ForgettingView::caption() const { return caption_->text(); }

bool ForgettingView::has_results() const { return !shown_.cells.empty(); }

void ForgettingView::show_workspace(const QString& workspace, const QList<qint64>& runs) {
  plot_->clearPlottables();
  tradeoff_->clear({});
  table_->clear();
  table_->setRowCount(0);
  table_->setColumnCount(0);
  shown_ = {};
  caption_->clear();
  if (workspace.isEmpty()) return plot_->replot();
  const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
  shown_ = report::aggregate_results(ws, report::runs_with_their_base(ws, {runs.begin(), runs.end()}));
  caption_->setText(runs.isEmpty() ? tr("Every finished evaluation of the workspace; select runs in the Runs pane to compare only those")
                                   : tr("The %n selected run(s), their evaluations and their base model's", nullptr, static_cast<int>(runs.size())));
  draw_bars(shown_);
  fill_table(shown_);
  show_changes(nullptr);
  tradeoff_->clear(tr("Computing the intervals…"));
  const std::string path = workspace.toStdString();
  const report::ResultTable t = shown_;
  significance_.setFuture(QtConcurrent::run([path, t] {
    Tests tests;
    try {
      const store::Workspace pool_ws(path, store::Workspace::Mode::ReadOnly);
      tests.sig = report::test_significance(pool_ws, t);
      tests.trade = report::tradeoff(pool_ws, t);
    } catch (const std::exception& e) {
      tests.trade.why_empty = e.what();  // the table keeps its changes without intervals
    }
    return tests;
  }));
}

// Grouped bars: one QCPBars per method, one group position per benchmark; a missing score has no bar.
void ForgettingView::draw_bars(const report::ResultTable& t) {
  const int nm = static_cast<int>(t.rows.size()), nc = static_cast<int>(t.columns.size());
  auto* group = new QCPBarsGroup(plot_);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int c = 0; c < nc; ++c)
    ticker->addTick(c + 1, QString::fromStdString(t.columns[static_cast<size_t>(c)].benchmark + "\n" + t.columns[static_cast<size_t>(c)].metric));
  plot_->xAxis->setTicker(ticker);
  plot_->xAxis->setRange(0.4, nc + 0.6);
  if (!plot_->layer("errors")) plot_->addLayer("errors", plot_->layer("main"), QCustomPlot::limAbove);  // whiskers over the bars
  const double width = 0.8 / std::max(1, nm);
  double top = 0, bottom = 0;  // the scores' reach, whiskers included; 0 always shown
  for (int m = 0; m < nm; ++m) {
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars->setName(QString::fromStdString(t.rows[static_cast<size_t>(m)].name));
    const QColor colour = series_colour(m);
    bars->setPen(QPen(colour.darker(120)));
    bars->setBrush(colour);
    bars->setWidth(width);
    bars->setBarsGroup(group);
    auto* errors = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    errors->removeFromLegend();
    errors->setLayer("errors");
    errors->setPen(QPen(colour.darker(220), 1.5));
    errors->setDataPlottable(bars);
    QVector<double> keys, values, stds;
    for (int c = 0; c < nc; ++c) {
      const report::Cell* cell = t.cell(static_cast<size_t>(m), static_cast<size_t>(c));
      if (!cell) continue;  // missing: no bar (not a bar at 0)
      keys << c + 1;
      values << cell->mean;
      stds << cell->std;
      top = std::max(top, cell->mean + cell->std);
      bottom = std::min(bottom, cell->mean - cell->std);
    }
    bars->setData(keys, values);
    errors->setData(stds);
  }
  // A score below zero (MCC after a short run) is a bar hanging from the zero line, not no bar.
  plot_->yAxis->setRange(bottom < 0 ? bottom * 1.15 : 0, std::max(1.0, top) * 1.15);  // room for the legend above
  plot_->yAxis->grid()->setZeroLinePen(QPen(palette().color(QPalette::WindowText), 1));
  plot_->replot();
}

// The table: configurations as rows; per benchmark the score (mean ± std) and the change from its model's Base.
void ForgettingView::fill_table(const report::ResultTable& t) {
  const int nm = static_cast<int>(t.rows.size()), nc = static_cast<int>(t.columns.size());
  const bool has_base = t.has_changes(), has_average = !t.averages.empty();
  table_->setRowCount(nm);
  table_->setColumnCount((nc + (has_average ? 1 : 0)) * (has_base ? 2 : 1));
  QStringList header;
  for (const auto& col : t.columns) {
    header << QString::fromStdString(col.benchmark + " " + col.metric);
    if (has_base) header << tr("Δ vs Base");
  }
  if (has_average) {  // the paper's Avg. column: no test of its own
    header << tr("average of %1").arg(t.averaged_columns);
    if (has_base) header << tr("Δ vs Base");
  }
  table_->setHorizontalHeaderLabels(header);
  for (int i = 0; i < table_->columnCount(); ++i) {
    const bool change = has_base && i % 2 == 1;
    table_->horizontalHeaderItem(i)->setToolTip(
        change ? tr("The configuration's mean minus its base model's, with its 95% interval over the examples and the seeds; * when "
                    "significant. Negative on a knowledge probe is forgetting, positive on the fine-tuning task is what was learned")
               : tr("Mean ± sample standard deviation over the seeds (the paper's Table 1 layout)"));
  }
  QStringList rows;
  for (const auto& r : t.rows) rows << QString::fromStdString(r.name);
  table_->setVerticalHeaderLabels(rows);
  for (int m = 0; m < nm; ++m) {
    const report::Row& r = t.rows[static_cast<size_t>(m)];
    table_->verticalHeaderItem(m)->setToolTip(QString::fromStdString(r.is_base() ? "The base model " + r.model + " alone"
                                                                                 : r.method + " on " + r.model + (r.settings.empty() ? "" : ", " + r.settings)));
  }
  for (int m = 0; m < nm; ++m)
    for (int c = 0; c < nc; ++c) {
      const report::Cell* cell = t.cell(static_cast<size_t>(m), static_cast<size_t>(c));
      if (!cell) {
        auto* missing = new QTableWidgetItem(tr("—"));
        missing->setToolTip(tr("No finished evaluation of this configuration on this benchmark"));
        table_->setItem(m, c * (has_base ? 2 : 1), missing);
        continue;
      }
      auto* item = new QTableWidgetItem(QString::fromStdString(report::mean_std(*cell)));
      item->setToolTip(tr("n = %1 seed(s)").arg(cell->n));
      table_->setItem(m, c * (has_base ? 2 : 1), item);
    }
  for (const auto& [m, avg] : t.averages) {
    const int col = nc * (has_base ? 2 : 1);
    auto* item = new QTableWidgetItem(QString::fromStdString(report::mean_std(avg)));
    item->setToolTip(tr("Each seed's mean over the %1 benchmarks where higher is better, then mean ± std over the seeds").arg(t.averaged_columns));
    table_->setItem(static_cast<int>(m), col, item);
    const auto base_row = t.base_of(m);
    const report::Cell* base = base_row ? t.average(*base_row) : nullptr;
    if (base) table_->setItem(static_cast<int>(m), col + 1, new QTableWidgetItem(QString::asprintf("%+.4f", avg.mean - base->mean)));
  }
  table_->resizeColumnsToContents();
}

void ForgettingView::show_changes(const report::SignificanceTable* sig) {
  const report::ResultTable& t = shown_;
  for (size_t m = 0; m < t.rows.size(); ++m)
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const auto base_row = t.base_of(m);
      const report::Cell *cell = t.cell(m, c), *base = base_row ? t.cell(*base_row, c) : nullptr;
      if (!cell || !base) continue;
      const double d = cell->mean - base->mean;
      const report::Test* test = sig ? sig->find(m, *base_row, c) : nullptr;
      auto* change = new QTableWidgetItem(test ? QString::fromStdString(report::difference_text(d, test->difference)) : QString::asprintf("%+.4f", d));
      const bool better = report::higher_is_better(t.columns[c].metric) ? d > 0 : d < 0;
      const bool unchanged = std::abs(d) < 0.5e-4;  // shows as +0.0000
      const bool claimed = test && significant(test->difference);
      if (!unchanged) change->setForeground(claimed ? (better ? QColor(39, 174, 96) : QColor(192, 57, 43)) : palette().color(QPalette::PlaceholderText));
      change->setToolTip(!sig    ? tr("Testing significance…")
                         : !test ? tr("Not tested (no stored predictions of this metric)")
                                 : tr("%1: p = %2, Holm-adjusted p = %3 over the suite's benchmarks; 95% interval over the examples and the seeds. %4")
                                       .arg(QString::fromStdString(test->difference.test))
                                       .arg(test->difference.p, 0, 'g', 3)
                                       .arg(test->difference.p_holm, 0, 'g', 3)
                                       .arg(claimed ? tr("Significant.") : tr("Not significant.")));
      table_->setItem(static_cast<int>(m), static_cast<int>(c * 2 + 1), change);
    }
  table_->resizeColumnsToContents();
}

}  // namespace imsm::ui
