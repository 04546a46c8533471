// The learning–forgetting picture of report/tradeoff.h in the window: per
// configuration its gain on the target (x) against its retention change (y)
// with the 95% intervals as error bars in both directions, each adapter's
// fixed mixes (α) as a line from the adapter, and the Pareto front dashed.
// Shows only; the numbers come from the report's computation.
#pragma once
#include <QWidget>

#include "report/tradeoff.h"

class QCustomPlot;
class QLabel;

namespace imsm::ui {

class TradeoffPlot : public QWidget {
  Q_OBJECT
 public:
  explicit TradeoffPlot(QWidget* parent = nullptr);
  void show_tradeoff(const report::Tradeoff& t);  // empty points: says why
  void clear(const QString& message);
  QCustomPlot* plot() const { return plot_; }
  QString note() const;

 private:
  QCustomPlot* plot_;
  QLabel* note_;
};

}  // namespace imsm::ui
