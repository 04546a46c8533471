#include "run_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEventLoop>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrent>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>

#include "model/cuda_device.h"
#include "recipes/memory_check.h"
#include "recipes/project.h"
#include "recipes/sweep.h"
#include "recipes/validation.h"
#include "run_worker.h"
#include "util/error.h"

namespace imsm::ui {

namespace {

QComboBox* combo(QWidget* parent, const QStringList& items, bool editable = false) {
  auto* c = new QComboBox(parent);
  c->addItems(items);
  c->setEditable(editable);
  return c;
}
QSpinBox* ispin(QWidget* parent, int lo, int hi, int value) {
  auto* s = new QSpinBox(parent);
  s->setRange(lo, hi);
  s->setValue(value);
  return s;
}
QDoubleSpinBox* dspin(QWidget* parent, double lo, double hi, double value, int decimals, double step) {
  auto* s = new QDoubleSpinBox(parent);
  s->setRange(lo, hi);
  s->setDecimals(decimals);
  s->setSingleStep(step);
  s->setValue(value);
  return s;
}
QLineEdit* line(QWidget* parent, const QString& text, const QString& placeholder = {}) {
  auto* e = new QLineEdit(text, parent);
  e->setPlaceholderText(placeholder);
  return e;
}
// Several fields on one form row.
QWidget* row(QWidget* parent, std::initializer_list<QWidget*> widgets) {
  auto* w = new QWidget(parent);
  auto* h = new QHBoxLayout(w);
  h->setContentsMargins(0, 0, 0, 0);
  for (QWidget* x : widgets) h->addWidget(x);
  return w;
}

// "Memory: about 2.16 GiB at a step's peak (logits 1000 MiB, activations 829 MiB, weights 214 MiB); 22.5 GiB free on cpu".
// On CUDA the window asks the device's size only: asking its free memory would hold a CUDA context in this process.
QString memory_line(const MemoryCheck& m) {
  std::vector<MemoryPart> parts = m.estimate.parts;
  std::sort(parts.begin(), parts.end(), [](const MemoryPart& a, const MemoryPart& b) { return a.bytes > b.bytes; });
  QStringList largest;
  for (size_t i = 0; i < parts.size() && i < 3; ++i)
    largest << QString::fromStdString(parts[i].name + " " + format_bytes(parts[i].bytes));
  QString line = QObject::tr("Memory: about %1 at the peak (%2)")
                     .arg(QString::fromStdString(format_bytes(m.estimate.peak_bytes())), largest.join(", "));
  const QString device = QString::fromStdString(m.device);
  if (m.free_bytes >= 0) return line + QObject::tr("; %1 free on %2").arg(QString::fromStdString(format_bytes(m.free_bytes)), device);
  for (const CudaDevice& d : cuda_devices(false))
    if (cuda_index(m.device) == d.index)
      return line + QObject::tr("; %1 has %2 in all (its free memory is checked when the run starts)")
                        .arg(device, QString::fromStdString(format_bytes(static_cast<double>(d.total_bytes))));
  return line + QObject::tr("; %1 is not visible here").arg(device);
}

}  // namespace

RunDialog::RunDialog(const QStringList& models, const QStringList& datasets, const QString& projects_dir, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("New fine-tuning run"));
  presets_ = new QComboBox(this);
  presets_->setToolTip(tr("Fill the fields from a run of an experiment project (projects/*.json)"));
  make_fields(models, datasets);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #c0392b;");
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  memory_ = new QLabel(this);
  memory_->setWordWrap(true);
  memory_->setToolTip(tr("The engine's estimate of the run's memory (imsm train --dry-run prints every part)"));
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Start"));
  make_sweep_box();
  lay_out();

  load_presets(projects_dir);
  connect(presets_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i > 0 && i <= static_cast<int>(preset_configs_.size())) apply_preset(preset_configs_[static_cast<size_t>(i - 1)]);
  });
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  fields_.on_change(this, &RunDialog::validate);
  validate();
}

// The table of keys: each `imsm train` key, its widget with the engine's default, and what it does.
void RunDialog::make_fields(const QStringList& models, const QStringList& datasets) {
  RunFields& f = fields_;
  f.add("model_path", combo(this, models, true), tr("Base model: a Hugging Face folder"));
  f.add("data_path", combo(this, datasets, true), tr("Training data: JSON lines {\"input\", \"output\"} or Alpaca JSON"));
  f.add("gate_probe_data", combo(this, QStringList{QString()} + datasets, true),
        tr("Where the probe examples come from: a validation file (held-out prompts of the task, or knowledge questions, to watch "
           "which memory IMSM reaches for); empty: the first training examples"));
  qobject_cast<QComboBox*>(f["gate_probe_data"])->lineEdit()->setPlaceholderText(tr("the training data"));
  f.add("test_data_path", combo(this, QStringList{QString()} + datasets, true),
        tr("A held-out set evaluated during training, as the official loop does after each epoch: its loss and its task's "
           "metrics, plotted against the step; the best adapter is kept in OUTPUT/best-adapter"));
  qobject_cast<QComboBox*>(f["test_data_path"])->lineEdit()->setPlaceholderText(tr("none"));
  f.add("eval_task", combo(this, {"", "gsm8k", "webq", "freebase", "mrpc", "multirc", "cola", "ropes"}),
        tr("The held-out set's task, which names its metrics (empty: from the dataset name or the file's path, GSM8K -> gsm8k)"));
  f.add("eval_steps", ispin(this, 0, 1000000, 0), tr("Also evaluate every N optimizer steps (0: at each epoch's end only)"));
  f.add("eval_examples", ispin(this, 0, 1000000, 0), tr("Evaluate the first N examples of each set (0: all)"));
  f.add("eval_suite", line(this, {}, tr("none")),
        tr("A forgetting suite (JSON) evaluated at the same points: each retention benchmark becomes a curve against the step"));
  f.add("best_metric", combo(this, {"loss", "EM", "Contain", "Accuracy", "F1_score", "F1_overlap", "MCC"}),
        tr("What makes an adapter the best and what early stopping watches: the held-out loss, or one of its task's metrics"));
  f.add("early_stopping_patience", ispin(this, 0, 1000, 0),
        tr("Stop after this many evaluations without a better best_metric (0: never stop early)"));
  f.add("label", line(this, {}, tr("from the method, e.g. IMSM(LoRA)")),
        tr("The method's name in the forgetting view and reports: runs with one label are averaged over their seeds, "
           "so give each setting of a sweep its own (\"LoRA lr 1e-3\")"));
  f.add("output_dir", line(this, "runs/imsm"), tr("Adapter and checkpoints go here (with several seeds: one folder per seed, -seedN)"));
  // Method.
  f.add("peft", combo(this, {"lora", "dora", "ia3", "adalora"}), tr("The PEFT method IMSM is put on (the paper: LoRA, (IA)³, AdaLoRA, DoRA)"));
  f.add("variant", combo(this, {"query", "no-query", "no-gate", "none"}),
        tr("IMSM's gate: query = the paper's query-aware gate, mixing the original and fine-tuned memories per token and "
           "dimension; no-query = the gate without the query terms; no-gate = a fixed mix (α below, ½ officially); none = the PEFT "
           "method alone (baseline)"));
  auto* modules = new NameChecks({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, 4, this);
  modules->set_checked({"q_proj", "v_proj"});
  for (QCheckBox* c : modules->boxes()) c->setToolTip(tr("Put the adapter on every %1 (Hugging Face module name)").arg(c->text()));
  f.add("target_modules", modules);
  f.add("lora_r", ispin(this, 1, 1024, 16), tr("The adapter's rank r"));
  f.add("lora_alpha", dspin(this, 0.01, 4096, 16, 2, 1), tr("The adapter's α: its update is scaled by α/r"));
  f.add("use_rslora", new QCheckBox(tr("rsLoRA scaling (α/√r)"), this));
  f.add("lora_dropout", dspin(this, 0, 0.9, 0.05, 3, 0.01), tr("Dropout on the adapter's input"));
  f.add("gate_rank", ispin(this, 1, 1024, 8), tr("r of the gate's low-rank maps gate_A [r, k·d] and gate_B [d, r]"));
  f.add("dropout_prob", dspin(this, 0, 0.9, 0.1, 3, 0.05), tr("Dropout on both gate maps, as the official code"));
  f.add("gate_probe_examples", ispin(this, 0, 4096, 8),
        tr("Measure the mean gate on this many probe examples about 50 times a run (0: off); it does not change training"));
  // Forgetting baselines: each off at 0, with any method and variant.
  f.add("replay_data", combo(this, QStringList{QString()} + datasets, true),
        tr("Replay: general data whose examples fill a fraction of every training batch (the oldest remedy for forgetting)"));
  qobject_cast<QComboBox*>(f["replay_data"])->lineEdit()->setPlaceholderText(tr("no replay"));
  f.add("replay_ratio", dspin(this, 0, 0.95, 0, 3, 0.05), tr("Replay: the fraction of each batch drawn from the replay data (0: off)"));
  f.add("ewc_lambda", dspin(this, 0, 1e9, 0, 4, 1),
        tr("EWC: λ of the penalty λ·Σ F(θ − θ₀)², F the diagonal Fisher of the starting model on the EWC data (0: off)"));
  f.add("ewc_data", combo(this, QStringList{QString()} + datasets, true),
        tr("EWC: the general data of the Fisher (computed once at the start, kept as OUTPUT/ewc_fisher.safetensors)"));
  qobject_cast<QComboBox*>(f["ewc_data"])->lineEdit()->setPlaceholderText(tr("no EWC"));
  f.add("ewc_examples", ispin(this, 16, 1000000, 64), tr("EWC: the Fisher's sample, the first N examples of its data (at least 16)"));
  f.add("kl_lambda", dspin(this, 0, 1000, 0, 4, 0.1),
        tr("KL: λ of λ·KL(p_original ‖ p_tuned) on the answer tokens, pulling the tuned model toward the original (0: off)"));
  f.add("mix_alpha", dspin(this, 0, 1, 0.5, 3, 0.05),
        tr("Variant no-gate: the fixed mix α·h_M + (1 − α)·h_M' (½: the official mode 0). To evaluate a trained adapter "
           "along α without training again: imsm eval --mix-alpha 0,0.25,0.5,0.75,1"));
  // Training.
  f.add("optimizer", combo(this, {"adamw", "adafactor"}));
  f.add("learning_rate", dspin(this, 1e-7, 1, 3e-4, 7, 1e-4));
  auto* gate_lr = dspin(this, 0, 1, 0, 7, 1e-4);
  gate_lr->setSpecialValueText(tr("official (1e-3 with AdamW, the learning rate with Adafactor)"));
  f.add("gate_learning_rate", gate_lr,
        tr("The IMSM gate's own learning rate; the schedule scales it as the adapter's. The official code gives the gate "
           "PyTorch's AdamW default, 1e-3, whatever the adapter's rate"));
  f.add("weight_decay", dspin(this, 0, 1, 0, 4, 0.01));
  f.add("lr_schedule", combo(this, {"cosine", "linear", "none"}));
  f.add("num_warmup_ratio", dspin(this, 0, 0.5, 0, 3, 0.01));
  f.add("batch_size", ispin(this, 1, 4096, 4));
  f.add("accumulation_steps", ispin(this, 1, 1024, 1));
  f.add("num_epochs", ispin(this, 1, 1000, 3));
  f.add("max_input_length", ispin(this, 8, 32768, 512));
  f.add("max_output_length", ispin(this, 1, 32768, 512));
  f.add("seed", line(this, "42"), tr("One run per seed: 1, 2, 3"));
  f.add("device", combo(this, {"cpu", "cuda", "cuda:0", "cuda:1"}, true));
  f.add("dtype", combo(this, {"auto", "f32", "bf16", "f16"}));
  f.add("processes", ispin(this, 1, 256, 1),
        tr("Train on this many processes of this machine, started by the venv's torchrun (data parallel: the batch size stays the "
           "global batch, so the adapter is the one 1 process trains; on CUDA one GPU each, cuda:0..N-1)"));
  // Advanced.
  f.add("save_steps", ispin(this, 0, 1000000, 0), tr("A resumable checkpoint every N optimizer steps (0: at each epoch's end only)"));
  f.add("max_grad_norm", dspin(this, 0, 1000, 1.0, 2, 0.1), tr("Clip the gradient's global norm to this (0: no clipping)"));
  f.add("gradient_checkpointing", combo(this, {"auto", "on", "off"}),
        tr("Recompute each decoder layer in the backward pass instead of keeping its activations: far less memory, ~10% more "
           "time (auto: on on CUDA)"));
  auto* chunk = ispin(this, -1, 1000000, -1);
  chunk->setSpecialValueText(tr("auto"));
  f.add("loss_chunk_size", chunk,
        tr("Compute the LM head and the loss over this many positions at a time, never the whole batch's logits "
           "(0: the whole batch; auto: 1024 on CUDA, the whole batch on CPU)"));
  auto* memory_check = new QCheckBox(tr("Refuse a run that will not fit"), this);
  memory_check->setChecked(true);
  f.add("memory_check", memory_check,
        tr("Before training, compare the run's memory estimate with the device's free memory and refuse it when it does not fit"));
  f.add("adalora_target_rank", ispin(this, 0, 1024, 0), tr("AdaLoRA: the rank the budget is pruned to (0: two thirds of r, as PEFT's 12 -> 8)"));
  auto* allocation = new QCheckBox(tr("AdaLoRA rank allocation"), this);
  allocation->setChecked(true);
  f.add("adalora_allocation", allocation,
        tr("PEFT's budget allocation and orthogonal regulariser; off: as the official IMSM code, which never calls "
           "update_and_allocate (the initial rank throughout)"));
  f.add("orth_reg_weight", dspin(this, 0, 100, 0.5, 3, 0.1), tr("AdaLoRA: weight of the orthogonality regulariser on P and Q"));
  f.add("tinit", ispin(this, 0, 1000000, 0), tr("AdaLoRA: warm-up steps before pruning starts (PEFT's tinit)"));
  f.add("tfinal", ispin(this, 0, 1000000, 0), tr("AdaLoRA: final steps at the target rank (PEFT's tfinal)"));
  f.add("deltaT", ispin(this, 1, 1000000, 1), tr("AdaLoRA: steps between budget updates (PEFT's deltaT)"));
  const QString fields_tip = tr("The dataset's field names: the prompt is instruction + input, the answer is output (Alpaca layout)");
  f.add("input_field", line(this, "input"), fields_tip);
  f.add("output_field", line(this, "output"), fields_tip);
  f.add("instruction_field", line(this, "instruction"), fields_tip);
}

void RunDialog::lay_out() {
  const RunFields& f = fields_;
  auto* method = new QGroupBox(tr("Method"), this);
  auto* mf = new QFormLayout(method);
  mf->addRow(tr("PEFT method"), f["peft"]);
  mf->addRow(tr("IMSM variant"), f["variant"]);
  mf->addRow(tr("Target modules"), f["target_modules"]);
  mf->addRow(tr("Rank r / α"), row(this, {f["lora_r"], f["lora_alpha"], f["use_rslora"]}));
  mf->addRow(tr("Adapter dropout"), f["lora_dropout"]);
  mf->addRow(tr("Gate rank / dropout"), row(this, {f["gate_rank"], f["dropout_prob"]}));
  mf->addRow(tr("Gate probe examples"), f["gate_probe_examples"]);
  auto* baselines = new QGroupBox(tr("Forgetting baselines"), this);
  baselines->setToolTip(tr("The remedies IMSM is compared with; each is off at 0 and combines with any method"));
  auto* bf = new QFormLayout(baselines);
  bf->addRow(tr("Replay data / ratio"), row(this, {f["replay_data"], f["replay_ratio"]}));
  bf->addRow(tr("EWC λ / data / examples"), row(this, {f["ewc_lambda"], f["ewc_data"], f["ewc_examples"]}));
  bf->addRow(tr("KL λ / fixed mix α"), row(this, {f["kl_lambda"], f["mix_alpha"]}));
  auto* method_column = new QVBoxLayout;
  method_column->addWidget(method);
  method_column->addWidget(baselines);
  auto* training = new QGroupBox(tr("Training"), this);
  auto* tf = new QFormLayout(training);
  tf->addRow(tr("Optimizer"), f["optimizer"]);
  tf->addRow(tr("Learning rate"), f["learning_rate"]);
  tf->addRow(tr("Gate learning rate"), f["gate_learning_rate"]);
  tf->addRow(tr("Weight decay"), f["weight_decay"]);
  tf->addRow(tr("Schedule / warm-up ratio"), row(this, {f["lr_schedule"], f["num_warmup_ratio"]}));
  tf->addRow(tr("Batch / accumulation"), row(this, {f["batch_size"], f["accumulation_steps"]}));
  tf->addRow(tr("Epochs"), f["num_epochs"]);
  tf->addRow(tr("Max input / output tokens"), row(this, {f["max_input_length"], f["max_output_length"]}));
  tf->addRow(tr("Seeds"), f["seed"]);
  tf->addRow(tr("Device / dtype"), row(this, {f["device"], f["dtype"]}));
  tf->addRow(tr("Processes"), f["processes"]);
  tf->addRow(tr("Held-out set / task"), row(this, {f["test_data_path"], f["eval_task"]}));
  tf->addRow(tr("Evaluate every / examples"), row(this, {f["eval_steps"], f["eval_examples"]}));
  tf->addRow(tr("Best by / patience"), row(this, {f["best_metric"], f["early_stopping_patience"]}));
  tf->addRow(tr("Forgetting suite"), f["eval_suite"]);
  auto* top = new QFormLayout;
  top->addRow(tr("Preset"), presets_);
  top->addRow(tr("Model"), f["model_path"]);
  top->addRow(tr("Training data"), f["data_path"]);
  top->addRow(tr("Gate probe data"), f["gate_probe_data"]);
  top->addRow(tr("Label"), f["label"]);
  top->addRow(tr("Output folder"), f["output_dir"]);
  auto* columns = new QHBoxLayout;
  columns->addLayout(method_column);
  columns->addWidget(training);
  auto* advanced = new QGroupBox(tr("Advanced"), this);
  advanced->setCheckable(true);
  advanced->setChecked(false);
  advanced->setToolTip(tr("Checkpoints, clipping, AdaLoRA's schedule and dataset field names; the values apply whether shown or not"));
  auto* advanced_body = new QWidget(advanced);
  auto* af = new QFormLayout(advanced_body);
  af->addRow(tr("Checkpoint every / clip norm"), row(this, {f["save_steps"], f["max_grad_norm"]}));
  af->addRow(tr("Activation checkpointing / loss chunk"), row(this, {f["gradient_checkpointing"], f["loss_chunk_size"], f["memory_check"]}));
  af->addRow(tr("AdaLoRA target rank / orth. reg."), row(this, {f["adalora_target_rank"], f["orth_reg_weight"], f["adalora_allocation"]}));
  af->addRow(tr("AdaLoRA tinit / tfinal / ΔT"), row(this, {f["tinit"], f["tfinal"], f["deltaT"]}));
  af->addRow(tr("Fields: input / output / instruction"), row(this, {f["input_field"], f["output_field"], f["instruction_field"]}));
  auto* advanced_layout = new QVBoxLayout(advanced);
  advanced_layout->addWidget(advanced_body);
  advanced_body->setVisible(false);
  connect(advanced, &QGroupBox::toggled, advanced_body, &QWidget::setVisible);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(columns);
  layout->addWidget(sweep_);
  layout->addWidget(advanced);
  layout->addStretch(1);
  layout->addWidget(memory_);
  layout->addWidget(note_);
  layout->addWidget(error_);
  layout->addWidget(buttons_);
}

void RunDialog::load_presets(const QString& projects_dir) {
  presets_->addItem(tr("(none)"));
  for (const QString& f : QDir(projects_dir).entryList({"*.json"}, QDir::Files, QDir::Name)) {
    try {
      const ProjectPlan plan = plan_project(QDir(projects_dir).filePath(f).toStdString());
      for (size_t i = 0; i < plan.runs.size(); ++i) {
        presets_->addItem(QString::fromStdString(plan.name + ": " + plan.run_labels[i]));
        preset_configs_.push_back(plan.runs[i].to_json());
      }
      for (const std::string& file : project_inputs(plan)) project_of_[file] = projects_.size();
      projects_.push_back(plan);
    } catch (const std::exception&) {
      // Not a project file (pretraining recipes, suites live beside them).
    }
  }
}

void RunDialog::apply_preset(const nlohmann::json& c) {
  preset_.update(c);  // keys without a field here (dataset, ...) go on with the run
  for (const auto& [key, value] : c.items()) fields_.set(key, value);
  validate();
}

void RunDialog::set_field(const QString& key, const QString& v) {
  if (!fields_.set(key.toStdString(), v.toStdString())) throw_internal("run dialog: no field for the key \"" + key.toStdString() + "\"");
}

nlohmann::json RunDialog::config_json() const {
  nlohmann::json j = preset_.is_object() ? preset_ : nlohmann::json::object();
  if (j.contains("dataset") && j.value("data_path", "") != fields_.text("data_path").toStdString()) j.erase("dataset");  // names other data
  j.update(fields_.values());
  j.erase("seed");       // configs(): one run per seed
  j.erase("processes");  // how the runs are started, not what they train
  return j;
}

std::vector<TrainConfig> RunDialog::configs() const {
  if (!sweep_->isChecked()) return expand_seeds(config_json(), fields_.text("seed").toStdString(), "run settings");
  return expand_sweep(config_json(), parse_sweep_axes(sweep_axes_->toPlainText().toStdString()), fields_.text("seed").toStdString(),
                      sweep_name_->text().trimmed().toStdString());
}

void RunDialog::make_sweep_box() {
  sweep_ = new QGroupBox(tr("Sweep a grid"), this);
  sweep_->setCheckable(true);
  sweep_->setChecked(false);
  sweep_->setToolTip(tr("One run per combination of the values below and per seed, each labelled with its settings and grouped as one "
                        "sweep in the Runs table (right-click: chart a metric against a swept key)"));
  sweep_name_ = new QLineEdit(sweep_);
  sweep_name_->setPlaceholderText(tr("a name, e.g. lr-rank"));
  sweep_axes_ = new QPlainTextEdit(sweep_);
  sweep_axes_->setPlaceholderText(tr("learning_rate = 1e-4, 3e-4, 1e-3\nlora_r = 8, 16\nvariant = query, none"));
  sweep_axes_->setMaximumHeight(80);
  sweep_axes_->setToolTip(tr("One key of imsm train per line, then its values: learning_rate, lora_r, gate_rank, variant, ..."));
  auto* form = new QFormLayout(sweep_);
  form->addRow(tr("Name"), sweep_name_);
  form->addRow(tr("Keys and values"), sweep_axes_);
  connect(sweep_, &QGroupBox::toggled, this, &RunDialog::validate);
  connect(sweep_name_, &QLineEdit::textChanged, this, &RunDialog::validate);
  connect(sweep_axes_, &QPlainTextEdit::textChanged, this, &RunDialog::validate);
}

void RunDialog::set_sweep(const QString& name, const QString& axes) {
  sweep_->setChecked(!axes.isEmpty() || !name.isEmpty());
  sweep_name_->setText(name);
  sweep_axes_->setPlainText(axes);
}

bool RunDialog::confirm_large_sweep() {
  const size_t n = configs().size();
  if (!sweep_->isChecked() || n <= kSweepCellsToConfirm) return true;
  return QMessageBox::question(this, tr("A large sweep"),
                               tr("This grid queues %1 runs, one after another. Queue them all?").arg(n)) == QMessageBox::Yes;
}

int RunDialog::processes() const { return qobject_cast<QSpinBox*>(fields_["processes"])->value(); }

QString RunDialog::error_text() const { return error_->text(); }
QString RunDialog::note_text() const { return note_->text(); }
QString RunDialog::memory_text() const { return memory_->text(); }

std::vector<size_t> RunDialog::pending_projects() const {
  std::vector<size_t> out;
  for (const char* key : {"data_path", "gate_probe_data", "test_data_path", "eval_suite", "replay_data", "ewc_data"}) {
    const QString path = fields_.text(key);
    const auto it = project_of_.find(path.toStdString());
    if (it != project_of_.end() && !QFileInfo(path).isFile() && std::find(out.begin(), out.end(), it->second) == out.end()) out.push_back(it->second);
  }
  return out;
}

bool RunDialog::project_makes(const QString& path) const { return project_of_.count(path.toStdString()) > 0; }

QString RunDialog::make_missing_data() {
  std::vector<ProjectPlan> pending;
  for (size_t i : pending_projects()) pending.push_back(projects_[i]);
  if (!pending.empty()) {
    // The engine makes the files on a pool thread; the dialog waits without blocking the GUI thread (and takes no input meanwhile).
    setEnabled(false);
    note_->setText(tr("Making the project's files…"));
    QFutureWatcher<QString> watcher;
    QEventLoop loop;
    connect(&watcher, &QFutureWatcher<QString>::finished, &loop, &QEventLoop::quit);
    watcher.setFuture(QtConcurrent::run([pending] {
      try {
        for (const ProjectPlan& plan : pending) make_project_inputs(plan, true);
      } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
      }
      return QString();
    }));
    if (!watcher.isFinished()) loop.exec();
    setEnabled(true);
    validate();
    return watcher.result();
  }
  validate();
  return {};
}

void RunDialog::accept() {
  if (!confirm_large_sweep()) return;
  const QString error = make_missing_data();
  if (!error.isEmpty()) {
    error_->setText(error);
    error_->setVisible(true);
    return;
  }
  QDialog::accept();
}

void RunDialog::validate() {
  QString message, memory, queued;
  try {
    const auto runs = configs();
    if (sweep_->isChecked())
      queued = (runs.size() == 1 ? tr("The sweep queues 1 run") : tr("The sweep queues %1 runs").arg(runs.size())) +
               (runs.size() > kSweepCellsToConfirm ? tr(" (Start asks first).") : QString("."));
    const int gpus = cuda_device_count();
    if (fields_.values()["target_modules"].empty())
      message = tr("target_modules: check at least one module");
    else if (!multi_process_problem(processes()).isEmpty())
      message = multi_process_problem(processes());
    else if (processes() > 1 && cuda_index(runs.front().device) && processes() > gpus)
      message = tr("processes: %1 processes on CUDA need %1 GPUs, this machine has %2").arg(processes()).arg(gpus);
    else
      message = QString::fromStdString(
          missing_input(runs.front(), [this](const std::string& path) { return project_makes(QString::fromStdString(path)); }));
    if (message.isEmpty())  // the held-out set's task, the criterion, the suite (read once it is there)
      validation_plan(runs.front(), [this](const std::string& path) { return project_makes(QString::fromStdString(path)); });
    if (message.isEmpty()) {  // will it fit: as run_train checks before it loads anything
      const MemoryCheck m = check_memory(runs.front(), !cuda_index(runs.front().device).has_value());
      memory = memory_line(m);
      if (!m.fits() && runs.front().memory_check) message = QString::fromStdString("memory_check: " + memory_refusal(m));
    }
  } catch (const std::exception& e) {
    message = QString::fromUtf8(e.what());
  }
  memory_->setText(memory);
  memory_->setVisible(!memory.isEmpty());
  QStringList made;
  for (size_t i : pending_projects()) {
    const ProjectPlan& plan = projects_[i];
    for (const auto& [key, request] : plan.data)
      if (!QFileInfo::exists(QString::fromStdString(request.out)))
        made << tr("%1 records of the bundled task \"%2\" (seed %3) into %4")
                    .arg(request.count)
                    .arg(QString::fromStdString(request.task))
                    .arg(request.seed)
                    .arg(QString::fromStdString(request.out));
    if (!QFileInfo::exists(QString::fromStdString(plan.suite_file))) made << tr("its suite into %1").arg(QString::fromStdString(plan.suite_file));
  }
  QString note = made.isEmpty() ? QString() : tr("Start first makes the project's files, as the project would: %1").arg(made.join("; "));
  if (message.isEmpty() && !queued.isEmpty()) note = note.isEmpty() ? queued : queued + " " + note;
  note_->setText(note);
  note_->setVisible(!note.isEmpty());
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(message.isEmpty());
}

}  // namespace imsm::ui
