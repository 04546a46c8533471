#include "forgetting_view.h"

#include <QHeaderView>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include "export.h"
#include "plot_style.h"
#include "report/results.h"
#include "store/workspace.h"

namespace imsm::ui {

ForgettingView::ForgettingView(QWidget* parent) : QWidget(parent) {
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
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(plot_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(split);
}

void ForgettingView::show_workspace(const QString& workspace) {
  plot_->clearPlottables();
  table_->clear();
  table_->setRowCount(0);
  table_->setColumnCount(0);
  if (workspace.isEmpty()) return plot_->replot();
  const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
  const report::ResultTable t = report::aggregate_results(ws, {});
  const int nm = static_cast<int>(t.methods.size()), nc = static_cast<int>(t.columns.size());

  // Grouped bars: one QCPBars per method, one group position per benchmark.
  auto* group = new QCPBarsGroup(plot_);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int c = 0; c < nc; ++c)
    ticker->addTick(c + 1, QString::fromStdString(t.columns[static_cast<size_t>(c)].benchmark + "\n" + t.columns[static_cast<size_t>(c)].metric));
  plot_->xAxis->setTicker(ticker);
  plot_->xAxis->setRange(0.4, nc + 0.6);
  const double width = 0.8 / std::max(1, nm);
  double top = 0;
  for (int m = 0; m < nm; ++m) {
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars->setName(QString::fromStdString(t.methods[static_cast<size_t>(m)]));
    const QColor colour = series_colour(m);
    bars->setPen(QPen(colour.darker(120)));
    bars->setBrush(colour);
    bars->setWidth(width);
    bars->setBarsGroup(group);
    auto* errors = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
    errors->removeFromLegend();
    errors->setDataPlottable(bars);
    QVector<double> keys, values, stds;
    for (int c = 0; c < nc; ++c) {
      const report::Cell* cell = t.cell(static_cast<size_t>(m), static_cast<size_t>(c));
      keys << c + 1;
      values << (cell ? cell->mean : 0);
      stds << (cell ? cell->std : 0);
      if (cell) top = std::max(top, cell->mean + cell->std);
    }
    bars->setData(keys, values);
    errors->setData(stds);
  }
  plot_->yAxis->setRange(0, std::max(1.0, top) * 1.15);  // room for the legend
  plot_->replot();

  // The table: methods as rows; per benchmark the score (mean ± std) and the change from Base.
  const bool has_base = nm > 0 && t.methods.front() == "Base";
  table_->setRowCount(nm);
  table_->setColumnCount(nc * (has_base ? 2 : 1));
  QStringList header;
  for (const auto& col : t.columns) {
    header << QString::fromStdString(col.benchmark + " " + col.metric);
    if (has_base) header << tr("Δ vs Base");
  }
  table_->setHorizontalHeaderLabels(header);
  for (int i = 0; i < table_->columnCount(); ++i) {
    const bool change = has_base && i % 2 == 1;
    table_->horizontalHeaderItem(i)->setToolTip(
        change ? tr("The method's mean minus the base model's: negative on a knowledge probe is forgetting, positive on the "
                    "fine-tuning task is what was learned")
               : tr("Mean ± sample standard deviation over the seeds (the paper's Table 1 layout)"));
  }
  QStringList rows;
  for (const auto& m : t.methods) rows << QString::fromStdString(m);
  table_->setVerticalHeaderLabels(rows);
  for (int m = 0; m < nm; ++m)
    for (int c = 0; c < nc; ++c) {
      const report::Cell* cell = t.cell(static_cast<size_t>(m), static_cast<size_t>(c));
      const int col = c * (has_base ? 2 : 1);
      if (!cell) continue;
      auto* item = new QTableWidgetItem(QString::fromStdString(report::mean_std(*cell)));
      item->setToolTip(tr("n = %1 seed(s)").arg(cell->n));
      table_->setItem(m, col, item);
      const report::Cell* base = has_base ? t.cell(0, static_cast<size_t>(c)) : nullptr;
      if (base && m > 0) {
        const double d = cell->mean - base->mean;
        auto* change = new QTableWidgetItem(QString::asprintf("%+.4f", d));
        change->setForeground(d < 0 ? QColor(192, 57, 43) : QColor(39, 174, 96));
        table_->setItem(m, col + 1, change);
      }
    }
  table_->resizeColumnsToContents();
}

}  // namespace imsm::ui
