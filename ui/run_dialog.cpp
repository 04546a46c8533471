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

#include "config/sweep_grid.h"
#include "model/cuda_device.h"
#include "recipes/make_data.h"
#include "recipes/memory_check.h"
#include "recipes/project.h"
#include "recipes/validation.h"
#include "run_worker.h"
#include "util/error.h"

namespace imsm::ui {

namespace {

QSpinBox* ispin(QWidget* parent, int lo, int hi, int value) {
  auto* s = new QSpinBox(parent);
  s->setRange(lo, hi);
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
  const QString device = QString::fromStdString(m.device.text());
  if (m.free_bytes >= 0) return line + QObject::tr("; %1 free on %2").arg(QString::fromStdString(format_bytes(m.free_bytes)), device);
  for (const CudaDevice& d : cuda_devices(false))
    if (m.device.cuda_index() == d.index)
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

// Each `imsm train` key the dialog shows, its widget made from the engine's key table (choices, range,
// default, help as the tooltip); then what is the dialog's own: suggestions, placeholders, the precision of a
// rate, a check box's words.
void RunDialog::make_fields(const QStringList& models, const QStringList& datasets) {
  RunFields& f = fields_;
  const QStringList optional_data = QStringList{QString()} + datasets;
  f.add_key("model_path", this, models);
  f.add_key("data_path", this, datasets);
  for (const char* key : {"gate_probe_data", "test_data_path", "replay_data", "ewc_data"}) f.add_key(key, this, optional_data);
  f.add_key("eval_task", this, {"", "gsm8k", "webq", "freebase", "mrpc", "multirc", "cola", "ropes"});
  f.add_key("best_metric", this, {"loss", "EM", "Contain", "Accuracy", "F1_score", "F1_overlap", "MCC"});
  for (const char* key : {"eval_steps", "eval_examples", "eval_suite", "early_stopping_patience", "label", "output_dir", "peft", "variant",
                          "target_modules", "lora_r", "lora_alpha", "use_rslora", "lora_dropout", "gate_rank", "dropout_prob",
                          "gate_probe_examples", "replay_ratio", "replay_self_examples", "ewc_lambda", "ewc_examples", "kl_lambda",
                          "mix_alpha", "optimizer",
                          "learning_rate", "gate_learning_rate", "weight_decay", "lr_schedule", "num_warmup_ratio", "batch_size",
                          "accumulation_steps", "num_epochs", "max_input_length", "max_output_length", "device", "dtype", "save_steps",
                          "max_grad_norm", "gradient_checkpointing", "loss_chunk_size", "memory_check", "adalora_target_rank",
                          "adalora_allocation", "orth_reg_weight", "tinit", "tfinal", "deltaT", "input_field", "output_field",
                          "instruction_field"})
    f.add_key(key, this);
  const TrainKey& seed = *find_train_key("seed");  // several, one run each
  f.add("seed", line(this, QString::number(seed.default_value.get<uint64_t>())),
        QString::fromStdString(seed.help) + tr("; one run per seed: 1, 2, 3"));
  f.add("processes", ispin(this, 1, 256, 1),
        tr("Train on this many processes of this machine, started by the venv's torchrun (data parallel: the batch size stays the "
           "global batch, so the adapter is the one 1 process trains; on CUDA one GPU each, cuda:0..N-1)"));
  present_fields();
}

// The dialog's presentation of some fields: placeholders for an empty value, words beside check boxes,
// the digits of rates, special values; the values themselves stay the table's.
void RunDialog::present_fields() {
  RunFields& f = fields_;
  const auto placeholder = [&](const char* key, const QString& text) {
    if (auto* c = qobject_cast<QComboBox*>(f[key])) c->lineEdit()->setPlaceholderText(text);
    if (auto* e = qobject_cast<QLineEdit*>(f[key])) e->setPlaceholderText(text);
  };
  placeholder("gate_probe_data", tr("the training data"));
  placeholder("test_data_path", tr("none"));
  placeholder("eval_suite", tr("none"));
  placeholder("label", tr("from the method, e.g. IMSM(LoRA)"));
  placeholder("replay_data", tr("no replay"));
  placeholder("ewc_data", tr("no EWC"));
  qobject_cast<QCheckBox*>(f["use_rslora"])->setText(tr("rsLoRA scaling (α/√r)"));
  qobject_cast<QCheckBox*>(f["memory_check"])->setText(tr("Refuse a run that will not fit"));
  qobject_cast<QCheckBox*>(f["adalora_allocation"])->setText(tr("AdaLoRA rank allocation"));
  auto* modules = qobject_cast<NameChecks*>(f["target_modules"]);
  for (QCheckBox* c : modules->boxes()) c->setToolTip(tr("Put the adapter on every %1 (Hugging Face module name)").arg(c->text()));
  modules->set_checked({"q_proj", "v_proj"});  // the table's default (none named) is the method's: LoRA's q_proj, v_proj
  for (const char* key : {"learning_rate", "gate_learning_rate"}) {
    auto* rate = qobject_cast<QDoubleSpinBox*>(f[key]);
    rate->setDecimals(7);
    rate->setSingleStep(1e-4);
  }
  qobject_cast<QDoubleSpinBox*>(f["gate_learning_rate"])->setSpecialValueText(tr("official (1e-3 with AdamW, the learning rate with Adafactor)"));
  qobject_cast<QSpinBox*>(f["loss_chunk_size"])->setSpecialValueText(tr("auto"));
}

// The method with its adapter and gate, and beside it the forgetting baselines.
QLayout* RunDialog::method_column() {
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
  bf->addRow(tr("Replay data / ratio / self-synthesized"),
             row(this, {f["replay_data"], f["replay_ratio"], f["replay_self_examples"]}));
  bf->addRow(tr("EWC λ / data / examples"), row(this, {f["ewc_lambda"], f["ewc_data"], f["ewc_examples"]}));
  bf->addRow(tr("KL λ / fixed mix α"), row(this, {f["kl_lambda"], f["mix_alpha"]}));
  auto* column = new QVBoxLayout;
  column->addWidget(method);
  column->addWidget(baselines);
  return column;
}

QWidget* RunDialog::training_group() {
  const RunFields& f = fields_;
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
  return training;
}

// Folded until ticked; its values apply whether shown or not.
QWidget* RunDialog::advanced_group() {
  const RunFields& f = fields_;
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
  return advanced;
}

void RunDialog::lay_out() {
  const RunFields& f = fields_;
  QLayout* methods = method_column();  // first: the fields' order is their tab order
  QWidget* training = training_group();
  auto* top = new QFormLayout;
  top->addRow(tr("Preset"), presets_);
  top->addRow(tr("Model"), f["model_path"]);
  top->addRow(tr("Training data"), f["data_path"]);
  top->addRow(tr("Gate probe data"), f["gate_probe_data"]);
  top->addRow(tr("Label"), f["label"]);
  top->addRow(tr("Output folder"), f["output_dir"]);
  auto* columns = new QHBoxLayout;
  columns->addLayout(methods);
  columns->addWidget(training);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(columns);
  layout->addWidget(sweep_);
  layout->addWidget(advanced_group());
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

const RowLengths& RunDialog::row_lengths(const TrainConfig& c) {
  auto stamp = [](const std::string& path) {
    const QFileInfo f(QString::fromStdString(path));
    return path + "@" + std::to_string(f.size()) + "@" + std::to_string(f.lastModified().toMSecsSinceEpoch());
  };
  const std::string of = stamp(c.model_path + "/tokenizer.json") + stamp(c.model_path + "/tokenizer.model") + stamp(c.data_path) +
                         (c.replay_ratio > 0 ? stamp(c.replay_data) : "") + "|" + std::to_string(c.replay_self_examples) + "|" +
                         std::to_string(c.max_input_length) + "|" +
                         std::to_string(c.max_output_length) + "|" + c.input_field + "|" + c.output_field + "|" + c.instruction_field;
  if (of != lengths_of_) {
    row_lengths_ = training_row_lengths(c);
    lengths_of_ = of;
  }
  return row_lengths_;
}

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
    else if (processes() > 1 && runs.front().device.cuda && processes() > gpus)
      message = tr("processes: %1 processes on CUDA need %1 GPUs, this machine has %2").arg(processes()).arg(gpus);
    else
      message = QString::fromStdString(
          missing_input(runs.front(), [this](const std::string& path) { return project_makes(QString::fromStdString(path)); }));
    if (message.isEmpty())  // the held-out set's task, the criterion, the suite (read once it is there)
      validation_plan(runs.front(), [this](const std::string& path) { return project_makes(QString::fromStdString(path)); });
    if (message.isEmpty()) {  // will it fit: as run_train checks before it loads anything
      const MemoryCheck m = check_memory(runs.front(), !runs.front().device.cuda, row_lengths(runs.front()));
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
