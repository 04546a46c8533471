// Items that flipped: the examples one evaluation got right and the other
// wrong (report/flips.h), filterable by benchmark, direction and text; a
// double click opens the example's trace in the inspector (run B's answer,
// the one whose memories are mixed when it is an IMSM evaluation).
#pragma once
#include <QDialog>
#include <QString>

#include "report/flips.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QTableWidget;

namespace imsm::ui {

class FlipsDialog : public QDialog {
  Q_OBJECT
 public:
  // Evaluation runs a and b of `workspace`; a problem (not two finished evaluations) shows as the caption.
  FlipsDialog(const QString& workspace, qint64 run_a, qint64 run_b, QWidget* parent = nullptr);
  QTableWidget* table() const { return table_; }
  QString caption() const;
  void set_filter(const QString& benchmark, const QString& change, const QString& text);  // tests; the widgets do the same

 signals:
  void open_requested(qint64 eval_run_id, const QString& benchmark, int example_index);

 private:
  void refill();

  report::FlipList list_;
  QLabel* caption_;
  QComboBox *benchmark_, *change_;
  QLineEdit* text_;
  QTableWidget* table_;
};

}  // namespace imsm::ui
