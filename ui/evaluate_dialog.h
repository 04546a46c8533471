// The Evaluate dialog: which finished training runs (the runs pane's
// selection checked), on what — a benchmark suite (projects/suites/, the
// suites the workspace's evaluations used, or a file) or one dataset with its
// task — on which device, and whether to keep each token's whole gate. The
// line under it says what will run (models, reused evaluations) or, naming
// the run or key, why it cannot; OK queues it in the worker (recipes/evaluate_runs.h).
#pragma once
#include <QDialog>
#include <QList>
#include <QStringList>

#include "recipes/evaluate_runs.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace imsm::ui {

// The suites to offer: the projects' (projects_dir/suites/*.json) and those the workspace's evaluations used.
QStringList suites_to_offer(const QString& workspace, const QString& projects_dir);

class EvaluateDialog : public QDialog {
  Q_OBJECT
 public:
  EvaluateDialog(const QString& workspace, const QList<qint64>& selected, const QString& projects_dir, QWidget* parent = nullptr);

  RunsEvalRequest request() const;  // what the fields say
  QString plan_text() const;        // what OK will queue, or the problem
  bool valid() const;
  QListWidget* runs() const { return runs_; }
  void use_suite(const QString& path);                      // tests, and Browse
  void use_dataset(const QString& path, const QString& task);

 private:
  void make_fields(const QString& projects_dir);
  void fill_runs(const QList<qint64>& selected);
  void fill_datasets();
  void lay_out();
  void update_plan();

  QString workspace_;
  QListWidget* runs_;
  QRadioButton *suite_mode_, *dataset_mode_;
  QButtonGroup* modes_;
  QPushButton* browse_;
  QComboBox *suite_, *dataset_, *task_, *device_;
  QSpinBox* limit_;
  QCheckBox *base_, *full_gate_;
  QLabel* plan_;
  QDialogButtonBox* buttons_;
  bool valid_ = false;
};

}  // namespace imsm::ui
