// The Export dialog of a finished training run: where to, in which format —
// a Hugging Face folder (transformers, PEFT) in a dtype, or one GGUF file for
// llama.cpp and Ollama in a quantization, optionally calibrated on the run's
// own training data (an importance matrix for q4_k_m), or the LoRA alone as a
// GGUF LoRA — and, for an IMSM run, whether to drop the gate. The line under
// it says what will be written, or why it cannot; OK queues the export in the
// worker (recipes/export.h).
#pragma once
#include <QDialog>

#include "recipes/export.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace imsm::ui {

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  // `base`: the run's request (adapter, base model); `training_data`: the run's dataset ("" when unknown).
  ExportDialog(const ExportRequest& base, const AdapterSummary& adapter, const QString& training_data, QWidget* parent = nullptr);

  ExportRequest request() const;  // what the fields say
  QString plan_text() const;      // what OK will write, or the problem
  bool valid() const { return valid_; }

  QLineEdit* out() const { return out_; }
  QComboBox* format() const { return format_; }
  QComboBox* quant() const { return quant_; }
  QCheckBox* calibrate() const { return calibrate_; }
  QCheckBox* adapter_only() const { return adapter_only_; }
  QCheckBox* drop_gate() const { return drop_gate_; }

 private:
  void make_fields();
  void lay_out();
  void update_plan();
  bool gguf() const;

  ExportRequest base_;
  AdapterSummary adapter_;
  QString training_data_;
  QLineEdit* out_;
  QPushButton* browse_;
  QComboBox *format_, *dtype_, *quant_;
  QCheckBox *calibrate_, *adapter_only_, *drop_gate_;
  QLabel* plan_;
  QDialogButtonBox* buttons_;
  bool valid_ = false;
};

}  // namespace imsm::ui
