#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "recipes/export_gguf.h"
#include "model/device_spec.h"

namespace imsm::ui {

ExportDialog::ExportDialog(const ExportRequest& base, const AdapterSummary& adapter, const QString& training_data, QWidget* parent)
    : QDialog(parent), base_(base), adapter_(adapter), training_data_(training_data) {
  setWindowTitle(tr("Export the model"));
  make_fields();
  lay_out();
  update_plan();
}

void ExportDialog::make_fields() {
  const QString run_dir = QFileInfo(QString::fromStdString(base_.adapter_dir)).dir().absolutePath();
  out_ = new QLineEdit(run_dir + "-export", this);
  browse_ = new QPushButton(tr("Browse…"), this);
  format_ = new QComboBox(this);
  format_->addItem(tr("Hugging Face folder (transformers, PEFT)"), "hf");
  const QString quants = QString::fromStdString(gguf_quant_list());
  if (!quants.isEmpty()) format_->addItem(tr("GGUF file (llama.cpp, Ollama)"), "gguf");  // a build without llama.cpp has none
  dtype_ = new QComboBox(this);
  for (const std::string& name : precisions().names()) dtype_->addItem(QString::fromStdString(name));
  quant_ = new QComboBox(this);
  for (const QString& q : quants.split(", ", Qt::SkipEmptyParts)) quant_->addItem(q);
  quant_->setCurrentText("f16");
  calibrate_ = new QCheckBox(tr("Calibrate q4_k_m on the run's training data (its first 256 rows)"), this);
  calibrate_->setChecked(!training_data_.isEmpty());
  calibrate_->setEnabled(!training_data_.isEmpty());
  adapter_only_ = new QCheckBox(tr("The LoRA alone, as a GGUF LoRA (llama.cpp's --lora)"), this);
  adapter_only_->setEnabled(adapter_.gguf_lora);
  drop_gate_ = new QCheckBox(tr("Without the gate: the tuned stream alone"), this);
  drop_gate_->setVisible(adapter_.mixes_streams);
  plan_ = new QLabel(this);
  plan_->setWordWrap(true);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Export"));
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getSaveFileName(this, tr("Export to a new folder"), out_->text(), {}, nullptr,
                                                     QFileDialog::DontConfirmOverwrite);
    if (!dir.isEmpty()) out_->setText(dir);
  });
  connect(out_, &QLineEdit::textChanged, this, &ExportDialog::update_plan);
  for (QComboBox* box : {format_, dtype_, quant_}) connect(box, &QComboBox::currentIndexChanged, this, &ExportDialog::update_plan);
  for (QCheckBox* box : {calibrate_, adapter_only_, drop_gate_}) connect(box, &QCheckBox::toggled, this, &ExportDialog::update_plan);
}

void ExportDialog::lay_out() {
  auto* where = new QHBoxLayout;
  where->addWidget(out_, 1);
  where->addWidget(browse_);
  auto* form = new QFormLayout;
  form->addRow(tr("Method"), new QLabel(QString::fromStdString(adapter_.method), this));
  form->addRow(tr("Folder"), where);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Weights in"), dtype_);
  form->addRow(tr("Quantization"), quant_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  for (QWidget* w : {static_cast<QWidget*>(calibrate_), static_cast<QWidget*>(adapter_only_), static_cast<QWidget*>(drop_gate_),
                     static_cast<QWidget*>(plan_), static_cast<QWidget*>(buttons_)})
    layout->addWidget(w);
}

bool ExportDialog::gguf() const { return format_->currentData().toString() == "gguf"; }

ExportRequest ExportDialog::request() const {
  ExportRequest r = base_;
  r.out_dir = out_->text().toStdString();
  r.format = format_->currentData().toString().toStdString();
  r.dtype = *precisions().find(dtype_->currentText().toStdString());  // one of the names offered
  r.quant = quant_->currentText().toStdString();
  r.adapter_only = gguf() && adapter_only_->isChecked();
  r.drop_gate = gguf() && adapter_.mixes_streams && drop_gate_->isChecked();
  if (gguf() && !r.adapter_only && r.quant == "q4_k_m" && calibrate_->isChecked()) r.calibration = training_data_.toStdString();
  return r;
}

void ExportDialog::update_plan() {
  const bool g = gguf();
  dtype_->setEnabled(!g);
  quant_->setEnabled(g);
  calibrate_->setVisible(g && quant_->currentText() == "q4_k_m" && !adapter_only_->isChecked());
  adapter_only_->setVisible(g);
  drop_gate_->setEnabled(g);
  const ExportRequest r = request();
  valid_ = false;
  QString text;
  if (r.out_dir.empty()) {
    text = tr("Choose a folder to write.");
  } else if (!g) {
    valid_ = true;
    text = adapter_.mixes_streams ? tr("%1 cannot be merged: the folder gets its adapter and gate, which imsm loads with the base model.")
                                        .arg(QString::fromStdString(adapter_.method))
                                  : tr("%1 merged into the base model, in %2: a folder transformers loads as it is.")
                                        .arg(QString::fromStdString(adapter_.method), dtype_->currentText());
  } else if (adapter_.mixes_streams && !r.drop_gate) {
    text = tr("%1 mixes the original and the tuned model per token, which llama.cpp does not compute: tick \"Without the gate\" "
              "to export the tuned stream alone, or choose the Hugging Face format.").arg(QString::fromStdString(adapter_.method));
  } else if (r.adapter_only && !gguf_lora_refusal(r.quant).empty()) {
    text = QString::fromStdString(gguf_lora_refusal(r.quant));
    text[0] = text[0].toUpper();
  } else {
    valid_ = true;
    const QString name = QFileInfo(out_->text()).fileName();
    text = r.adapter_only ? tr("%1.lora.%2.gguf: the LoRA for llama.cpp's --lora on the base model's GGUF.").arg(name, quant_->currentText())
                          : tr("%1.%2.gguf and an Ollama Modelfile%3.")
                                .arg(name, quant_->currentText(),
                                     r.calibration.empty() ? QString() : tr(", quantized with an importance matrix from %1").arg(training_data_));
  }
  plan_->setText(text);
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(valid_);
}

QString ExportDialog::plan_text() const { return plan_->text(); }

}  // namespace imsm::ui
