#include "runs_pane.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "runs_model.h"

namespace imsm::ui {

RunsPane::RunsPane(RunsModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  make_filters();
  make_view();
  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(status_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(view_, 1);

  connect(model_, &QAbstractItemModel::modelReset, view_, &QTableView::resizeColumnsToContents);
  connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
  connect(status_, &QComboBox::currentIndexChanged, this, &RunsPane::apply_status_filter);
  connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] { emit selection_changed(selected_ids()); });
  connect(view_, &QTableView::customContextMenuRequested, this, &RunsPane::show_menu);
}

// The status filter under the text filter: a run shows when both accept it.
void RunsPane::make_filters() {
  status_proxy_ = new QSortFilterProxyModel(this);
  status_proxy_->setSourceModel(model_);
  status_proxy_->setFilterKeyColumn(RunsModel::Status);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(status_proxy_);
  proxy_->setFilterKeyColumn(-1);
  proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  proxy_->setSortRole(Qt::UserRole + 1);

  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(tr("Filter runs (method, name, score…)"));
  filter_->setClearButtonEnabled(true);
  status_ = new QComboBox(this);
  status_->addItem(tr("All"));
  for (const RunStatus s : {RunStatus::Finished, RunStatus::Running, RunStatus::Queued, RunStatus::Interrupted, RunStatus::Cancelled,
                            RunStatus::Failed, RunStatus::Diverged})
    status_->addItem(status_name(s));
  status_->setToolTip(tr("Show runs with this status"));
}

void RunsPane::make_view() {
  view_ = new QTableView(this);
  view_->setModel(proxy_);
  view_->setSortingEnabled(true);
  view_->sortByColumn(RunsModel::Id, Qt::AscendingOrder);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setStretchLastSection(true);
  view_->setAlternatingRowColors(true);
  view_->setContextMenuPolicy(Qt::CustomContextMenu);
  view_->setToolTip(tr("Select several runs (Ctrl/Shift) to compare their curves and scores"));
}

// Right click on a run: what can be done with it (and with the selection it is in).
void RunsPane::show_menu(const QPoint& pos) {
  const QModelIndex index = view_->indexAt(pos);
  if (!index.isValid()) return;
  const qint64 id = index.data(Qt::UserRole).toLongLong();
  const RunSummary* r = model_->row_of(id);
  QMenu menu(this);
  QAction* resume = menu.addAction(tr("Resume run %1").arg(id));
  resume->setEnabled(r && r->kind == "train" && can_resume(r->status));
  QList<qint64> ids = selected_ids();
  if (!ids.contains(id)) ids = {id};
  QAction* evaluate = menu.addAction(ids.size() > 1 ? tr("Evaluate the %1 selected runs…").arg(ids.size()) : tr("Evaluate run %1…").arg(id));
  evaluate->setEnabled(r && r->kind == "train" && r->status == RunStatus::Finished);
  evaluate->setToolTip(tr("Score their adapters and base models on a suite or a dataset; the results go to the Forgetting view"));
  QAction* export_model = menu.addAction(tr("Export the model of run %1…").arg(id));
  export_model->setEnabled(r && r->kind == "train" && r->status == RunStatus::Finished);
  export_model->setToolTip(tr("Merge its adapter into the base model and write a Hugging Face model folder"));
  QAction* flips = nullptr;
  if (ids.size() == 2) {
    const RunSummary *a = model_->row_of(ids[0]), *b = model_->row_of(ids[1]);
    flips = menu.addAction(tr("Items that flipped from run %1 to run %2…").arg(ids[0]).arg(ids[1]));
    flips->setEnabled(a && b && a->kind == "eval" && b->kind == "eval" && a->status == RunStatus::Finished && b->status == RunStatus::Finished);
    flips->setToolTip(tr("The examples one evaluation got right and the other wrong: what was learned and what was forgotten"));
  }
  QAction *select_sweep_runs = nullptr, *chart = nullptr;
  if (r && !r->sweep.empty()) {
    menu.addSeparator();
    const QString sweep = QString::fromStdString(r->sweep);
    select_sweep_runs = menu.addAction(tr("Select the runs of sweep %1").arg(sweep));
    chart = menu.addAction(tr("Chart sweep %1…").arg(sweep));
    chart->setToolTip(tr("A metric of the runs' evaluations against a swept key, one point per seed"));
  }
  QAction* chosen = menu.exec(view_->viewport()->mapToGlobal(pos));
  if (chosen && chosen == select_sweep_runs) select_sweep(QString::fromStdString(r->sweep));
  if (chosen && chosen == chart) emit sweep_chart_requested(QString::fromStdString(r->sweep));
  if (chosen == resume) emit resume_requested(id);
  if (chosen == export_model) emit export_requested(id);
  if (chosen == evaluate) emit evaluate_requested(ids);
  if (chosen && chosen == flips) emit flips_requested(ids[0], ids[1]);
}

void RunsPane::apply_status_filter() {
  const QString s = status_->currentIndex() == 0 ? QString() : status_->currentText();
  status_proxy_->setFilterRegularExpression(s.isEmpty() ? QString() : "^" + s + "$");
}

QList<qint64> RunsPane::selected_ids() const {
  QList<qint64> ids;
  for (const QModelIndex& i : view_->selectionModel()->selectedRows()) ids << i.data(Qt::UserRole).toLongLong();
  std::sort(ids.begin(), ids.end());
  return ids;
}

void RunsPane::select_sweep(const QString& sweep) {
  QList<qint64> ids;
  for (const RunSummary& r : model_->rows())
    if (QString::fromStdString(r.sweep) == sweep) ids << r.id;
  select_ids(ids);
}

void RunsPane::select_ids(const QList<qint64>& ids) {
  QItemSelection sel;
  for (int r = 0; r < proxy_->rowCount(); ++r) {
    const QModelIndex i = proxy_->index(r, 0);
    if (ids.contains(i.data(Qt::UserRole).toLongLong())) sel.select(i, proxy_->index(r, proxy_->columnCount() - 1));
  }
  view_->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect);
}

}  // namespace imsm::ui
