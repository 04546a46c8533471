#include "library_panes.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>

#include "run_worker.h"
#include "store/workspace.h"
#include "tokenizer/tokenizer.h"
#include "train/dataset.h"
#include "views/inspect.h"
#include "views/model_catalog.h"

namespace imsm::ui {

namespace {
QLabel* error_label(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setWordWrap(true);
  l->setStyleSheet("color: #c0392b;");
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  l->hide();
  return l;
}
void show_error(QLabel* l, const QString& message) {
  l->setText(message);
  l->setVisible(!message.isEmpty());
}
// Runs `add` (an engine call); an error's message is shown under the pane and returned, "" on success.
QString try_add(QLabel* error, const std::function<void()>& add) {
  try {
    add();
  } catch (const std::exception& e) {
    show_error(error, QString::fromUtf8(e.what()));
    return QString::fromUtf8(e.what());
  }
  show_error(error, {});
  return {};
}
QString human_count(int64_t n) {
  return n >= 1000000 ? QString::number(n / 1e6, 'f', 2) + "M" : n >= 1000 ? QString::number(n / 1e3, 'f', 1) + "k" : QString::number(n);
}
}  // namespace

// ---------------------------------------------------------------- models

ModelsPane::ModelsPane(QWidget* parent) : QWidget(parent) {
  list_ = new QListWidget(this);
  list_->setToolTip(tr("Base models of this workspace: Hugging Face folders (config.json, *.safetensors, tokenizer)"));
  details_ = new QPlainTextEdit(this);
  details_->setReadOnly(true);
  details_->setFont(QFont("Monospace"));
  error_ = error_label(this);
  add_ = new QPushButton(tr("Add model folder…"), this);
  add_->setToolTip(tr("A Hugging Face model folder with safetensors weights (pickled *.bin/*.pt checkpoints are refused: loading them can run code)"));
  installed_ = new QListWidget(this);
  installed_->setToolTip(tr("Installed models this workspace does not hold yet: double-click to add"));
  installed_->setMaximumHeight(installed_->fontMetrics().height() * 4);
  add_gguf_ = new QPushButton(tr("Add GGUF…"), this);
  add_gguf_->setToolTip(tr("A GGUF file (llama.cpp, Ollama): dequantized by llama.cpp's ggml and written as a Hugging Face folder "
                           "beside the workspace (models/NAME), then added"));
  add_gguf_->setVisible(gguf_import_available());
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add_);
  buttons->addWidget(add_gguf_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(list_, 1);
  layout->addLayout(buttons);
  layout->addWidget(new QLabel(tr("Installed, not in this workspace (double-click to add):"), this));
  layout->addWidget(installed_);
  layout->addWidget(error_);
  layout->addWidget(details_, 1);
  connect(add_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a Hugging Face model folder"));
    if (!dir.isEmpty()) add_model(dir);
  });
  connect(add_gguf_, &QPushButton::clicked, this, [this] {
    const QString gguf = QFileDialog::getOpenFileName(this, tr("Add a GGUF model"), QString(), tr("GGUF models (*.gguf)"));
    if (!gguf.isEmpty()) emit import_gguf_requested(gguf, import_folder_for(gguf));
  });
  connect(list_, &QListWidget::currentRowChanged, this, &ModelsPane::show_details);
  connect(installed_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) { add_model(item->data(Qt::UserRole).toString()); });
}

void ModelsPane::set_workspace(const QString& path) {
  workspace_ = path;
  reload();
}

void ModelsPane::reload() {
  const QString keep = current_model();
  list_->clear();
  installed_->clear();
  if (workspace_.isEmpty()) return;
  try {
    store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto held = ws.models();
    for (const auto& c : model_catalog()) {
      const bool in_workspace = std::any_of(held.begin(), held.end(), [&](const auto& m) { return QFileInfo(QString::fromStdString(m.path)) == QFileInfo(QString::fromStdString(c.path)); });
      if (!c.present || in_workspace) continue;
      auto* item = new QListWidgetItem(QString::fromStdString(c.name), installed_);
      item->setData(Qt::UserRole, QString::fromStdString(c.path));
      item->setToolTip(QString::fromStdString(c.about + "\n" + c.path));
    }
    for (const auto& m : held) {
      auto* item = new QListWidgetItem(QString::fromStdString(m.name) + (m.parameters ? "  ·  " + human_count(m.parameters) : QString()), list_);
      item->setData(Qt::UserRole, QString::fromStdString(m.path));
      item->setToolTip(QString::fromStdString(m.path));
      if (QString::fromStdString(m.path) == keep) list_->setCurrentItem(item);
    }
  } catch (const std::exception& e) {
    show_error(error_, QString::fromUtf8(e.what()));
  }
  if (!list_->currentItem() && list_->count()) list_->setCurrentRow(0);
}

bool ModelsPane::add_model(const QString& dir) {
  const QString message = try_add(error_, [&] {
    const ModelInfo info = inspect_model(dir.toStdString());
    store::Workspace ws(workspace_.toStdString());
    ws.add_model(dir.toStdString(), info.architecture, info.num_parameters);
  });
  if (!message.isEmpty()) {
    emit error(message);
    return false;
  }
  reload();
  for (int i = 0; i < list_->count(); ++i)
    if (QFileInfo(list_->item(i)->data(Qt::UserRole).toString()) == QFileInfo(dir)) list_->setCurrentRow(i);
  return true;
}

QString ModelsPane::import_folder_for(const QString& gguf) const {
  const QDir beside = workspace_.isEmpty() ? QDir::current() : QFileInfo(workspace_).absoluteDir();
  const QString stem = QFileInfo(gguf).completeBaseName();
  QString out = beside.filePath("models/" + stem);
  for (int n = 2; QFileInfo::exists(out); ++n) out = beside.filePath(QString("models/%1-%2").arg(stem).arg(n));
  return out;
}

QString ModelsPane::current_model() const { return list_->currentItem() ? list_->currentItem()->data(Qt::UserRole).toString() : QString(); }
QString ModelsPane::details_text() const { return details_->toPlainText(); }
QString ModelsPane::error_text() const { return error_->isHidden() ? QString() : error_->text(); }

void ModelsPane::show_details() {
  const QString dir = current_model();
  if (dir.isEmpty()) return details_->clear();
  try {
    details_->setPlainText(QString::fromStdString(inspect_model(dir.toStdString()).to_text()));
  } catch (const std::exception& e) {
    details_->setPlainText(tr("This model cannot be read now:\n") + QString::fromUtf8(e.what()));
  }
  emit model_selected(dir);
}

// ---------------------------------------------------------------- datasets

DatasetsPane::DatasetsPane(QWidget* parent) : QWidget(parent) {
  list_ = new QListWidget(this);
  list_->setToolTip(tr("Datasets of this workspace: JSON lines {\"input\", \"output\"} (the official IMSM format) or Alpaca JSON"));
  preview_ = new QTableWidget(this);
  preview_->setColumnCount(4);
  preview_->setHorizontalHeaderLabels({tr("Prompt"), tr("Answer"), tr("Prompt tokens"), tr("Answer tokens")});
  preview_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  preview_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  preview_->setWordWrap(false);
  summary_ = new QLabel(this);
  error_ = error_label(this);
  add_ = new QPushButton(tr("Add dataset…"), this);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(list_, 1);
  layout->addWidget(add_);
  layout->addWidget(error_);
  layout->addWidget(summary_);
  layout->addWidget(preview_, 2);
  connect(add_, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Add a dataset"), {}, tr("Datasets (*.jsonl *.json)"));
    if (!f.isEmpty()) add_dataset(f);
  });
  connect(list_, &QListWidget::currentRowChanged, this, &DatasetsPane::show_preview);
}

void DatasetsPane::set_workspace(const QString& path) {
  workspace_ = path;
  reload();
}

void DatasetsPane::set_tokenizer(const QString& model_dir) {
  tokenizer_dir_ = model_dir;
  show_preview();
}

void DatasetsPane::reload() {
  list_->clear();
  if (workspace_.isEmpty()) return;
  try {
    store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const auto& d : ws.datasets()) {
      auto* item = new QListWidgetItem(QString::fromStdString(d.name) + (d.examples ? QString("  ·  %1 examples").arg(d.examples) : QString()), list_);
      item->setData(Qt::UserRole, QString::fromStdString(d.path));
      item->setToolTip(QString::fromStdString(d.path + "\nsha256 " + d.sha256));
    }
  } catch (const std::exception& e) {
    show_error(error_, QString::fromUtf8(e.what()));
  }
}

bool DatasetsPane::add_dataset(const QString& file) {
  const QString message = try_add(error_, [&] {
    const auto examples = read_examples(file.toStdString());
    store::Workspace ws(workspace_.toStdString());
    ws.add_dataset(file.toStdString(), static_cast<int64_t>(examples.size()));
  });
  if (!message.isEmpty()) {
    emit error(message);
    return false;
  }
  reload();
  list_->setCurrentRow(list_->count() - 1);
  return true;
}

QString DatasetsPane::error_text() const { return error_->isHidden() ? QString() : error_->text(); }

void DatasetsPane::show_preview() {
  preview_->setRowCount(0);
  summary_->clear();
  if (!list_->currentItem()) return;
  const QString path = list_->currentItem()->data(Qt::UserRole).toString();
  try {
    const auto examples = read_examples(path.toStdString());
    std::unique_ptr<Tokenizer> tok;
    if (!tokenizer_dir_.isEmpty()) tok = load_tokenizer(tokenizer_dir_.toStdString());
    const int shown = static_cast<int>(std::min<size_t>(examples.size(), 200));
    preview_->setRowCount(shown);
    int64_t prompt_tokens = 0, answer_tokens = 0;
    for (int i = 0; i < shown; ++i) {
      const auto& e = examples[static_cast<size_t>(i)];
      auto* p = new QTableWidgetItem(QString::fromStdString(e.prompt).replace('\n', " ⏎ "));
      p->setToolTip(QString::fromStdString(e.prompt));
      preview_->setItem(i, 0, p);
      auto* a = new QTableWidgetItem(QString::fromStdString(e.answer).replace('\n', " ⏎ "));
      a->setToolTip(QString::fromStdString(e.answer));
      preview_->setItem(i, 1, a);
      if (tok) {
        const auto np = static_cast<int64_t>(tok->encode(e.prompt, true).size()), na = static_cast<int64_t>(tok->encode(e.answer, false).size());
        prompt_tokens += np;
        answer_tokens += na;
        preview_->setItem(i, 2, new QTableWidgetItem(QString::number(np)));
        preview_->setItem(i, 3, new QTableWidgetItem(QString::number(na)));
      }
    }
    summary_->setText(tok && shown ? tr("%1 examples (first %2 shown) · mean %3 prompt / %4 answer tokens")
                                         .arg(examples.size()).arg(shown)
                                         .arg(double(prompt_tokens) / shown, 0, 'f', 1).arg(double(answer_tokens) / shown, 0, 'f', 1)
                                   : tr("%1 examples (first %2 shown)").arg(examples.size()).arg(shown));
    show_error(error_, {});
  } catch (const std::exception& e) {
    show_error(error_, QString::fromUtf8(e.what()));
  }
}

}  // namespace imsm::ui
