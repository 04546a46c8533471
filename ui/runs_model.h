// The workspace's runs as a Qt table model: status, method (LoRA,
// IMSM(LoRA), ...), variant, seed, steps, final loss and the evaluation
// scores (of the run, or of the evaluations of its adapter). Rows are plain
// data read by read_run_rows(); the model only presents them.
#pragma once
#include <QAbstractTableModel>

#include <cstdint>
#include <string>
#include <vector>

namespace imsm::store {
class Workspace;
}

namespace imsm::ui {

struct RunRow {
  int64_t id = 0, parent_run_id = 0, seed = 0, steps = 0;
  std::string kind, status, name, method, variant, started_at, message;
  double final_loss = -1;  // < 0: none
  double seconds = -1;     // < 0: not ended
  std::vector<std::pair<std::string, double>> scores;  // "arith Accuracy" -> value
};

std::vector<RunRow> read_run_rows(const store::Workspace& ws);

class RunsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Id, Kind, Status, Method, Variant, Seed, Steps, Loss, Scores, Started, Duration, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  void set_rows(std::vector<RunRow> rows);  // keeps the view's selection where ids stay
  const std::vector<RunRow>& rows() const { return rows_; }
  const RunRow* row_of(int64_t id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<RunRow> rows_;
};

}  // namespace imsm::ui
