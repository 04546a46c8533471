// The forgetting dashboard: every benchmark's score for the base model and
// each method (mean over seeds, ± std as error bars), as grouped bars, and the
// table in the paper's layout (Table 1: scores; Table 2: change from the base
// model), and the learning–forgetting picture (report/tradeoff.h) in a tab
// beside the bars. Data: report::aggregate_results over the workspace, the same
// numbers the exported report shows. Each change gets its 95% interval and
// significance mark (report/significance_table.h) from a pool thread: the
// bootstrap takes a second or two on a large workspace, never on the GUI
// thread; significance_ready() says when they are in the table.
#pragma once
#include <QFutureWatcher>
#include <QString>
#include <QWidget>

#include "report/results.h"
#include "report/significance_table.h"
#include "report/tradeoff.h"

class QCustomPlot;
class QLabel;
class QTabWidget;
class QTableWidget;

namespace imsm::ui {

class TradeoffPlot;

class ForgettingView : public QWidget {
  Q_OBJECT
 public:
  explicit ForgettingView(QWidget* parent = nullptr);
  // The finished evaluations of `runs` (training runs bring theirs) and of
  // their base models; every one of the workspace when `runs` is empty.
  void show_workspace(const QString& workspace, const QList<qint64>& runs = {});
  bool has_results() const;  // some finished evaluation is shown
  QCustomPlot* plot() const { return plot_; }
  TradeoffPlot* tradeoff() const { return tradeoff_; }  // gain against retention: filled with the intervals
  QTabWidget* tabs() const { return tabs_; }
  QTableWidget* table() const { return table_; }
  QString caption() const;  // what is shown: the whole workspace or a selection

 signals:
  void significance_ready();

 private:
  void draw_bars(const report::ResultTable& t);
  void fill_table(const report::ResultTable& t);
  void show_changes(const report::SignificanceTable* sig);  // the Δ columns; nullptr: intervals still being computed

  QLabel* caption_;
  QCustomPlot* plot_;
  QTableWidget* table_;
  report::ResultTable shown_;
  TradeoffPlot* tradeoff_;
  QTabWidget* tabs_;
  struct Tests {  // what the pool thread computes: the bootstrap of every change and of the trade-off
    report::SignificanceTable sig;
    report::Tradeoff trade;
  };
  QFutureWatcher<Tests> significance_;
};

}  // namespace imsm::ui
