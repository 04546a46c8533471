// The runs of the workspace: a sortable table (status, method, variant, seed,
// key metrics) with a text filter and a status filter; several can be
// selected to compare. Right click: resume an unfinished run, evaluate finished ones, export a
// finished one's model.
#pragma once
#include <QList>
#include <QWidget>

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace imsm::ui {

class RunsModel;

class RunsPane : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPane(RunsModel* model, QWidget* parent = nullptr);
  QList<qint64> selected_ids() const;
  void select_ids(const QList<qint64>& ids);
  void select_sweep(const QString& sweep);  // every run of the sweep grid
  QTableView* view() const { return view_; }
  QLineEdit* filter() const { return filter_; }

 signals:
  void selection_changed(const QList<qint64>& ids);
  void resume_requested(qint64 id);
  void export_requested(qint64 id);
  void evaluate_requested(const QList<qint64>& ids);  // the selected runs (the one clicked when none is)
  void flips_requested(qint64 run_a, qint64 run_b);  // two evaluation runs: the examples whose correctness changed
  void sweep_chart_requested(const QString& sweep);   // a metric against a swept key

 private:
  void make_filters();
  void make_view();
  void show_menu(const QPoint& pos);
  void apply_status_filter();

  RunsModel* model_;
  QSortFilterProxyModel* proxy_;
  QSortFilterProxyModel* status_proxy_;
  QTableView* view_;
  QLineEdit* filter_;
  QComboBox* status_;
};

}  // namespace imsm::ui
