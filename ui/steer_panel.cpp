#include "steer_panel.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace imsm::ui {

SteerPanel::SteerPanel(QWidget* parent) : QWidget(parent) {
  value_ = new QDoubleSpinBox(this);
  value_->setRange(0, 1);
  value_->setSingleStep(0.25);
  value_->setDecimals(2);
  value_->setValue(1.0);
  value_->setToolTip(tr("The gate g weighs the original memory: 1 answers from the original model's memory, 0 from the fine-tuned one"));
  tokens_ = new QLineEdit(this);
  tokens_->setPlaceholderText(tr("every token (or: 0, 2-4)"));
  tokens_->setToolTip(tr("The answer's tokens to clamp, counted from 0; the others keep the gate's own value"));
  steer_ = new QPushButton(tr("Regenerate steered"), this);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Clamp the gate to"), this));
  controls->addWidget(value_);
  controls->addWidget(new QLabel(tr("for tokens"), this));
  controls->addWidget(tokens_, 1);
  controls->addWidget(steer_);
  auto* sides = new QSplitter(Qt::Horizontal, this);
  const QStringList titles = {tr("As generated"), tr("Steered")};
  for (int side = 0; side < 2; ++side) {
    auto* column = new QWidget(sides);
    auto* layout = new QVBoxLayout(column);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel("<b>" + titles[side] + "</b>", column));
    answers_[side] = new QTextBrowser(column);
    answers_[side]->setMaximumHeight(70);
    layout->addWidget(answers_[side]);
    tables_[side] = new QTableWidget(0, 9, column);
    tables_[side]->setHorizontalHeaderLabels({tr("token"), tr("gate"), tr("p original"), tr("p tuned"), tr("p mix"), tr("H original"),
                                              tr("H tuned"), tr("H mix"), tr("KL(orig ‖ tuned)")});
    tables_[side]->setEditTriggers(QAbstractItemView::NoEditTriggers);
    tables_[side]->verticalHeader()->setDefaultSectionSize(20);
    tables_[side]->horizontalHeaderItem(8)->setToolTip(tr("How far apart the two memories' next-token distributions are (nats): "
                                                           "where they disagree, the gate's choice decides the token"));
    layout->addWidget(tables_[side], 1);
    sides->addWidget(column);
  }
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls);
  layout->addWidget(sides, 1);
  connect(steer_, &QPushButton::clicked, this, &SteerPanel::steer_requested);
}

double SteerPanel::clamp_value() const { return value_->value(); }

void SteerPanel::set_clamp(double value, const QString& tokens) {
  value_->setValue(value);
  tokens_->setText(tokens);
}

std::optional<std::vector<int64_t>> SteerPanel::clamp_tokens(QString* error) const {
  std::vector<int64_t> out;
  for (const QString& part : tokens_->text().split(',', Qt::SkipEmptyParts)) {
    const QStringList range = part.trimmed().split('-');
    bool ok_first = false, ok_last = false;
    const int first = range.value(0).trimmed().toInt(&ok_first), last = range.size() == 2 ? range[1].trimmed().toInt(&ok_last) : first;
    if (!ok_first || (range.size() == 2 && !ok_last) || range.size() > 2 || first < 0 || last < first) {
      if (error) *error = tr("tokens: \"%1\" is not a position or a range like 2-4 (positions count from 0)").arg(part.trimmed());
      return std::nullopt;
    }
    for (int t = first; t <= last; ++t) out.push_back(t);
  }
  return out;
}

void SteerPanel::show_original(const std::vector<TokenTrace>& tokens) {
  fill(0, tokens);
  fill(1, {});
}

void SteerPanel::show_steered(const std::vector<TokenTrace>& tokens) { fill(1, tokens); }

void SteerPanel::fill(int side, const std::vector<TokenTrace>& tokens) {
  QString html;
  for (const TokenTrace& t : tokens) {
    const QString piece = QString::fromStdString(t.piece).toHtmlEscaped();
    html += t.steered ? "<b><u>" + piece + "</u></b>" : piece;  // the clamped tokens underlined
  }
  answers_[side]->setHtml(html);
  QTableWidget* table = tables_[side];
  table->setRowCount(static_cast<int>(tokens.size()));
  auto number = [](float v) { return v < 0 ? QStringLiteral("—") : QString::number(v, 'f', 3); };
  for (int r = 0; r < static_cast<int>(tokens.size()); ++r) {
    const TokenTrace& t = tokens[static_cast<size_t>(r)];
    const QStringList cells = {QString::fromStdString(t.piece), QString::number(t.gate_mean, 'f', 3) + (t.steered ? tr(" (clamped)") : ""),
                               number(t.p_original), number(t.p_tuned), number(t.p_mix), number(t.entropy_original),
                               number(t.entropy_tuned), number(t.entropy_mix), number(t.kl_original_tuned)};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (c == 8 && t.kl_original_tuned >= 0)  // disagreement: red as KL grows (1 nat: full)
        item->setBackground(QColor::fromRgbF(1.0f, 1.0f - std::min(1.0f, t.kl_original_tuned) * 0.6f, 1.0f - std::min(1.0f, t.kl_original_tuned) * 0.6f));
      table->setItem(r, c, item);
    }
  }
  table->resizeColumnsToContents();
}

}  // namespace imsm::ui
