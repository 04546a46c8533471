// The forgetting dashboard: every benchmark's score for the base model and
// each method (mean over seeds, ± std as error bars), as grouped bars, and the
// table in the paper's layout (Table 1: scores; Table 2: change from the base
// model). Data: report::aggregate_results over the workspace, the same
// numbers the exported report shows.
#pragma once
#include <QString>
#include <QWidget>

class QCustomPlot;
class QTableWidget;

namespace imsm::ui {

class ForgettingView : public QWidget {
  Q_OBJECT
 public:
  explicit ForgettingView(QWidget* parent = nullptr);
  void show_workspace(const QString& workspace);  // all finished evaluations
  QCustomPlot* plot() const { return plot_; }
  QTableWidget* table() const { return table_; }

 private:
  QCustomPlot* plot_;
  QTableWidget* table_;
};

}  // namespace imsm::ui
