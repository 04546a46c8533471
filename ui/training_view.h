// Training curves: loss (per optimizer step), learning rate and, for IMSM
// runs, the mean gate on the run's probe examples, for the selected runs,
// read from the workspace, and the running run's curve from the worker's
// LiveRun, redrawn by the window's timer. With nothing selected, a hint.
#pragma once
#include <QList>
#include <QMap>
#include <QString>
#include <QVector>
#include <QWidget>

#include "live_run.h"

class QCustomPlot;
class QCPItemText;

namespace imsm::ui {

class TrainingView : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingView(QWidget* parent = nullptr);
  // Curves of these runs (training runs; others are skipped) from the workspace.
  void show_runs(const QString& workspace, const QList<qint64>& ids);
  // The live run: its points replace what the workspace had for its id.
  void update_live(const LiveSnapshot& live);
  QCustomPlot* loss_plot() const { return loss_; }
  QCustomPlot* lr_plot() const { return lr_; }
  QCustomPlot* gate_plot() const { return gate_; }
  int curve_count() const;
  QString hint() const;  // "" while curves are shown

 private:
  struct Curve {
    QString label;
    QVector<double> step, loss, lr;
    QVector<double> gate_step, gate;  // where the probe measured it
  };
  static void add_point(Curve& c, const StepRecord& p);
  void redraw();

  QCustomPlot* loss_;
  QCustomPlot* lr_;
  QCustomPlot* gate_;
  QCPItemText* hint_;
  QMap<qint64, Curve> curves_;  // by run id
  qint64 live_id_ = 0;
};

}  // namespace imsm::ui
