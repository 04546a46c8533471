// The chart of a sweep grid: a metric of its runs' evaluations against one of
// its swept keys — a point per run (seed), a line through the mean at each
// value, one series per combination of the other swept keys. A learning rate
// spanning a decade or more is drawn on a log axis; text values (variant) as
// categories. Read from the workspace (views/sweep.h); runs not evaluated
// yet are left out, and the caption says how many.
#pragma once
#include <QDialog>
#include <QString>

#include "views/sweep.h"

class QComboBox;
class QCustomPlot;
class QLabel;

namespace imsm::ui {

class SweepChart : public QDialog {
  Q_OBJECT
 public:
  SweepChart(const QString& workspace, const QString& sweep, QWidget* parent = nullptr);
  void show_key(const QString& key, const QString& score);  // tests; the combo boxes do the same
  QCustomPlot* plot() const { return plot_; }
  QString caption() const;
  const SweepData& data() const { return data_; }

 private:
  void redraw();
  QString caption_text(const std::vector<SweepPoint>& points, const std::string& score) const;

  SweepData data_;
  QComboBox *key_, *score_;
  QCustomPlot* plot_;
  QLabel* caption_;
};

}  // namespace imsm::ui
