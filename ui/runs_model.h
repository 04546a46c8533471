// The workspace's runs as a Qt table model: status, method (LoRA,
// IMSM(LoRA), ...), variant, seed, steps, final loss and the evaluation
// scores (of the run, or of the evaluations of its adapter) and the most
// memory it held (GPU, else RAM). Rows are plain
// data joined by the engine (views/run_table.h: run_summaries, which
// `imsm runs list` reads too); the model only presents them.
#pragma once
#include <QAbstractTableModel>

#include <cstdint>
#include <string>
#include <vector>

#include "views/run_table.h"

namespace imsm::ui {

// A run as the views name it: "12 · IMSM(LoRA) seed 3" (id, method or label, seed).
QString run_title(const store::RunRecord& run);

class RunsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Id, Kind, Status, Method, Variant, Seed, Sweep, Steps, Loss, Scores, Started, Duration, PeakMemory, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  void set_rows(std::vector<RunSummary> rows);  // keeps the view's selection where ids stay
  const std::vector<RunSummary>& rows() const { return rows_; }
  const RunSummary* row_of(int64_t id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<RunSummary> rows_;
};

}  // namespace imsm::ui
