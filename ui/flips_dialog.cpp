#include "flips_dialog.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableWidget>
#include <QVBoxLayout>

#include <set>

#include "store/workspace.h"

namespace imsm::ui {

FlipsDialog::FlipsDialog(const QString& workspace, qint64 run_a, qint64 run_b, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Items that flipped: run %1 against run %2").arg(run_b).arg(run_a));
  caption_ = new QLabel(this);
  caption_->setWordWrap(true);
  benchmark_ = new QComboBox(this);
  benchmark_->addItem(tr("every benchmark"));
  change_ = new QComboBox(this);
  change_->addItems({tr("gained and lost"), tr("gained"), tr("lost")});
  change_->setToolTip(tr("gained: run %1 right where run %2 was wrong (learned); lost: the reverse (forgotten)").arg(run_b).arg(run_a));
  text_ = new QLineEdit(this);
  text_->setPlaceholderText(tr("filter by text"));
  table_ = new QTableWidget(this);
  table_->setColumnCount(7);
  table_->setHorizontalHeaderLabels({tr("benchmark"), tr("example"), tr("change"), tr("input"), tr("gold"), tr("run %1 answered").arg(run_a),
                                     tr("run %1 answered").arg(run_b)});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(tr("Double-click an example to open run %1's answer in Memory mixing").arg(run_b));
  auto* filters = new QHBoxLayout;
  filters->addWidget(benchmark_);
  filters->addWidget(change_);
  filters->addWidget(text_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(caption_);
  layout->addLayout(filters);
  layout->addWidget(table_, 1);
  resize(1000, 560);

  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    list_ = report::flipped_items(ws, run_a, run_b);
    QString text = tr("Run %1 against run %2: %3 gained, %4 lost of %5 examples compared.")
                       .arg(run_b).arg(run_a).arg(list_.gained).arg(list_.lost).arg(list_.compared);
    for (const std::string& why : list_.skipped) text += " " + tr("Left out %1.").arg(QString::fromStdString(why));
    caption_->setText(text);
  } catch (const std::exception& e) {
    caption_->setText(QString::fromUtf8(e.what()));
  }
  std::set<std::string> names;
  for (const report::Flip& f : list_.flips)
    if (names.insert(f.benchmark).second) benchmark_->addItem(QString::fromStdString(f.benchmark));
  connect(benchmark_, &QComboBox::currentIndexChanged, this, &FlipsDialog::refill);
  connect(change_, &QComboBox::currentIndexChanged, this, &FlipsDialog::refill);
  connect(text_, &QLineEdit::textChanged, this, &FlipsDialog::refill);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this, run_b](int row, int) {
    const QTableWidgetItem* item = table_->item(row, 0);
    if (item) emit open_requested(run_b, item->text(), table_->item(row, 1)->text().toInt());
  });
  refill();
}

QString FlipsDialog::caption() const { return caption_->text(); }

void FlipsDialog::set_filter(const QString& benchmark, const QString& change, const QString& text) {
  benchmark_->setCurrentIndex(benchmark.isEmpty() ? 0 : std::max(0, benchmark_->findText(benchmark)));
  change_->setCurrentIndex(change == "gained" ? 1 : change == "lost" ? 2 : 0);
  text_->setText(text);
  refill();
}

void FlipsDialog::refill() {
  table_->setRowCount(0);
  const QString text = text_->text();
  for (const report::Flip& f : list_.flips) {
    if (benchmark_->currentIndex() > 0 && QString::fromStdString(f.benchmark) != benchmark_->currentText()) continue;
    if (change_->currentIndex() > 0 && f.gained != (change_->currentIndex() == 1)) continue;
    const QStringList cells = {QString::fromStdString(f.benchmark), QString::number(f.example_index), f.gained ? tr("gained") : tr("lost"),
                               QString::fromStdString(f.input), QString::fromStdString(f.golds.empty() ? "" : f.golds.front()),
                               QString::fromStdString(f.answer_a), QString::fromStdString(f.answer_b)};
    if (!text.isEmpty() && !cells.join('\n').contains(text, Qt::CaseInsensitive)) continue;
    const int row = table_->rowCount();
    table_->insertRow(row);
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setToolTip(cells[c]);
      if (c == 2) item->setForeground(f.gained ? QColor(39, 174, 96) : QColor(192, 57, 43));
      table_->setItem(row, c, item);
    }
  }
  table_->resizeColumnsToContents();
}

}  // namespace imsm::ui
