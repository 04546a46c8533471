// Training curves: loss (per optimizer step; the held-out loss dashed, where
// the run evaluated one), learning rate, for IMSM runs the mean gate on the
// run's probe examples, and the evaluations during training — the held-out
// set's headline metric and each retention benchmark's score against the
// step (a live forgetting curve), the best adapter's step marked — for the
// selected runs, read from the workspace, and the running run's curves from
// the worker's LiveRun, redrawn by the window's timer. With nothing
// selected, the latest training runs (so a new run is plotted as it trains);
// in a workspace without any, a hint saying how to start one.
#pragma once
#include <QList>
#include <QMap>
#include <vector>
#include <QString>
#include <QVector>
#include <QWidget>

#include "live_run.h"

class QCustomPlot;
class QLabel;
class QCPItemText;
class QCPItemStraightLine;

namespace imsm::ui {

class TrainingView : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingView(QWidget* parent = nullptr);
  static constexpr int kLatestRuns = 4;  // plotted when none is selected
  // Curves of these runs (training runs; others are skipped) from the workspace; none: the latest.
  void show_runs(const QString& workspace, const QList<qint64>& selected);
  // The live run: its points replace what the workspace had for its id.
  void update_live(const LiveSnapshot& live);
  QCustomPlot* loss_plot() const { return loss_; }
  QCustomPlot* lr_plot() const { return lr_; }
  QCustomPlot* gate_plot() const { return gate_; }
  QCustomPlot* validation_plot() const { return validation_; }
  int curve_count() const;  // runs plotted
  QString hint() const;  // "" while curves are shown
  QString caption() const;  // what is plotted when it was not chosen ("" otherwise)

 private:
  struct Series {
    QVector<double> step, value;
  };
  struct Curve {
    QString label;
    QVector<double> step, loss, lr;
    QVector<double> gate_step, gate;  // where the probe measured it
    Series held_out_loss;
    QMap<QString, Series> scores;     // "benchmark metric": the held-out set's headline, each retention benchmark's
    qint64 best_step = 0;             // the best adapter's (0: none)
  };
  static void add_point(Curve& c, const StepRecord& p);
  static void add_validation(Curve& c, const std::vector<ValidationRecord>& records);
  void redraw();

  QCustomPlot* loss_;
  QCustomPlot* lr_;
  QCustomPlot* gate_;
  QCustomPlot* validation_;
  QCPItemText* hint_;
  QLabel* caption_;
  QMap<qint64, Curve> curves_;  // by run id
  QList<QCPItemStraightLine*> best_lines_;  // the best adapters' steps, on the loss and validation plots
  qint64 live_id_ = 0;
};

}  // namespace imsm::ui
