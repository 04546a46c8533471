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
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <exception>

#include "recipes/project.h"
#include "util/error.h"

namespace imsm::ui {

namespace {
const char* const kModules[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

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
// Several fields on one form row.
QWidget* row(QWidget* parent, std::initializer_list<QWidget*> widgets) {
  auto* w = new QWidget(parent);
  auto* h = new QHBoxLayout(w);
  h->setContentsMargins(0, 0, 0, 0);
  for (QWidget* x : widgets) h->addWidget(x);
  return w;
}
void set_combo(QComboBox* c, const QString& v) {
  const int i = c->findText(v);
  if (i >= 0) c->setCurrentIndex(i);
  else if (c->isEditable()) c->setEditText(v);
}
}  // namespace

RunDialog::RunDialog(const QStringList& models, const QStringList& datasets, const QString& projects_dir, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("New fine-tuning run"));
  presets_ = new QComboBox(this);
  presets_->setToolTip(tr("Fill the fields from a run of an experiment project (projects/*.json)"));
  model_ = combo(this, models, true);
  model_->setToolTip(tr("Base model: a Hugging Face folder"));
  data_ = combo(this, datasets, true);
  data_->setToolTip(tr("Training data: JSON lines {\"input\", \"output\"} or Alpaca JSON"));
  peft_ = combo(this, {"lora", "dora", "ia3", "adalora"});
  peft_->setToolTip(tr("The PEFT method IMSM is put on (the paper: LoRA, (IA)³, AdaLoRA, DoRA)"));
  variant_ = combo(this, {"query", "no-query", "no-gate", "none"});
  variant_->setToolTip(tr("IMSM's gate: query = the paper's query-aware gate, mixing the original and fine-tuned memories per token and "
                          "dimension; no-query = the gate without the query terms; no-gate = ½ + ½; none = the PEFT method alone (baseline)"));
  auto* module_box = new QWidget(this);
  auto* module_grid = new QGridLayout(module_box);
  module_grid->setContentsMargins(0, 0, 0, 0);
  for (int i = 0; i < 7; ++i) {
    auto* c = new QCheckBox(kModules[i], module_box);
    c->setToolTip(tr("Put the adapter on every %1 (Hugging Face module name)").arg(kModules[i]));
    modules_ << c;
    module_grid->addWidget(c, i / 4, i % 4);
  }
  modules_[0]->setChecked(true);
  modules_[2]->setChecked(true);
  lora_r_ = ispin(this, 1, 1024, 16);
  lora_alpha_ = dspin(this, 0.01, 4096, 16, 2, 1);
  lora_dropout_ = dspin(this, 0, 0.9, 0.05, 3, 0.01);
  rslora_ = new QCheckBox(tr("rsLoRA scaling (α/√r)"), this);
  gate_rank_ = ispin(this, 1, 1024, 8);
  gate_rank_->setToolTip(tr("r of the gate's low-rank maps gate_A [r, k·d] and gate_B [d, r]"));
  gate_dropout_ = dspin(this, 0, 0.9, 0.1, 3, 0.05);
  gate_probe_ = ispin(this, 0, 4096, 8);
  gate_probe_->setToolTip(tr("Measure the mean gate on this many probe examples about 50 times a run (0: off); "
                             "it does not change training"));
  gate_probe_data_ = combo(this, QStringList{QString()} + datasets, true);
  gate_probe_data_->lineEdit()->setPlaceholderText(tr("the training data"));
  gate_probe_data_->setToolTip(tr("Where the probe examples come from: a validation file (held-out prompts of the task, or "
                                  "knowledge questions, to watch which memory IMSM reaches for); empty: the first training examples"));
  gate_dropout_->setToolTip(tr("Dropout on both gate maps, as the official code"));
  optimizer_ = combo(this, {"adamw", "adafactor"});
  lr_ = dspin(this, 1e-7, 1, 3e-4, 7, 1e-4);
  weight_decay_ = dspin(this, 0, 1, 0, 4, 0.01);
  schedule_ = combo(this, {"cosine", "linear", "none"});
  warmup_ = dspin(this, 0, 0.5, 0, 3, 0.01);
  batch_ = ispin(this, 1, 4096, 4);
  accumulation_ = ispin(this, 1, 1024, 1);
  epochs_ = ispin(this, 1, 1000, 3);
  max_in_ = ispin(this, 8, 32768, 512);
  max_out_ = ispin(this, 1, 32768, 512);
  seeds_ = new QLineEdit("42", this);
  seeds_->setToolTip(tr("One run per seed: 1, 2, 3"));
  device_ = combo(this, {"cpu", "cuda", "cuda:0", "cuda:1"}, true);
  dtype_ = combo(this, {"auto", "f32", "bf16", "f16"});
  label_ = new QLineEdit(this);
  label_->setPlaceholderText(tr("from the method, e.g. IMSM(LoRA)"));
  label_->setToolTip(tr("The method's name in the forgetting view and reports: runs with one label are averaged over their seeds, "
                        "so give each setting of a sweep its own (\"LoRA lr 1e-3\")"));
  output_dir_ = new QLineEdit("runs/imsm", this);
  output_dir_->setToolTip(tr("Adapter and checkpoints go here (with several seeds: one folder per seed, -seedN)"));
  // Advanced: the remaining keys of `imsm train`.
  save_steps_ = ispin(this, 0, 1000000, 0);
  save_steps_->setToolTip(tr("A resumable checkpoint every N optimizer steps (0: at each epoch's end only)"));
  max_grad_norm_ = dspin(this, 0, 1000, 1.0, 2, 0.1);
  max_grad_norm_->setToolTip(tr("Clip the gradient's global norm to this (0: no clipping)"));
  top_rank_ = ispin(this, 0, 1024, 0);
  top_rank_->setToolTip(tr("AdaLoRA: the rank the budget is pruned to (0: two thirds of r, as PEFT's 12 -> 8)"));
  tinit_ = ispin(this, 0, 1000000, 0);
  tinit_->setToolTip(tr("AdaLoRA: warm-up steps before pruning starts (PEFT's tinit)"));
  tfinal_ = ispin(this, 0, 1000000, 0);
  tfinal_->setToolTip(tr("AdaLoRA: final steps at the target rank (PEFT's tfinal)"));
  delta_t_ = ispin(this, 1, 1000000, 1);
  delta_t_->setToolTip(tr("AdaLoRA: steps between budget updates (PEFT's deltaT)"));
  orth_reg_ = dspin(this, 0, 100, 0.5, 3, 0.1);
  orth_reg_->setToolTip(tr("AdaLoRA: weight of the orthogonality regulariser on P and Q"));
  input_field_ = new QLineEdit("input", this);
  output_field_ = new QLineEdit("output", this);
  instruction_field_ = new QLineEdit("instruction", this);
  for (QLineEdit* e : {input_field_, output_field_, instruction_field_})
    e->setToolTip(tr("The dataset's field names: the prompt is instruction + input, the answer is output (Alpaca layout)"));
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #c0392b;");
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Start"));

  auto* method = new QGroupBox(tr("Method"), this);
  auto* mf = new QFormLayout(method);
  mf->addRow(tr("PEFT method"), peft_);
  mf->addRow(tr("IMSM variant"), variant_);
  mf->addRow(tr("Target modules"), module_box);
  mf->addRow(tr("Rank r / α"), row(this, {lora_r_, lora_alpha_, rslora_}));
  mf->addRow(tr("Adapter dropout"), lora_dropout_);
  mf->addRow(tr("Gate rank / dropout"), row(this, {gate_rank_, gate_dropout_}));
  mf->addRow(tr("Gate probe examples"), gate_probe_);
  auto* training = new QGroupBox(tr("Training"), this);
  auto* tf = new QFormLayout(training);
  tf->addRow(tr("Optimizer"), optimizer_);
  tf->addRow(tr("Learning rate"), lr_);
  tf->addRow(tr("Weight decay"), weight_decay_);
  tf->addRow(tr("Schedule / warm-up ratio"), row(this, {schedule_, warmup_}));
  tf->addRow(tr("Batch / accumulation"), row(this, {batch_, accumulation_}));
  tf->addRow(tr("Epochs"), epochs_);
  tf->addRow(tr("Max input / output tokens"), row(this, {max_in_, max_out_}));
  tf->addRow(tr("Seeds"), seeds_);
  tf->addRow(tr("Device / dtype"), row(this, {device_, dtype_}));
  auto* top = new QFormLayout;
  top->addRow(tr("Preset"), presets_);
  top->addRow(tr("Model"), model_);
  top->addRow(tr("Training data"), data_);
  top->addRow(tr("Gate probe data"), gate_probe_data_);
  top->addRow(tr("Label"), label_);
  top->addRow(tr("Output folder"), output_dir_);
  auto* columns = new QHBoxLayout;
  columns->addWidget(method);
  columns->addWidget(training);
  auto* advanced = new QGroupBox(tr("Advanced"), this);
  advanced->setCheckable(true);
  advanced->setChecked(false);
  advanced->setToolTip(tr("Checkpoints, clipping, AdaLoRA's schedule and dataset field names; the values apply whether shown or not"));
  auto* advanced_body = new QWidget(advanced);
  auto* af = new QFormLayout(advanced_body);
  af->addRow(tr("Checkpoint every / clip norm"), row(this, {save_steps_, max_grad_norm_}));
  af->addRow(tr("AdaLoRA target rank / orth. reg."), row(this, {top_rank_, orth_reg_}));
  af->addRow(tr("AdaLoRA tinit / tfinal / ΔT"), row(this, {tinit_, tfinal_, delta_t_}));
  af->addRow(tr("Fields: input / output / instruction"), row(this, {input_field_, output_field_, instruction_field_}));
  auto* advanced_layout = new QVBoxLayout(advanced);
  advanced_layout->addWidget(advanced_body);
  advanced_body->setVisible(false);
  connect(advanced, &QGroupBox::toggled, advanced_body, &QWidget::setVisible);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(columns);
  layout->addWidget(advanced);
  layout->addStretch(1);
  layout->addWidget(note_);
  layout->addWidget(error_);
  layout->addWidget(buttons_);

  load_presets(projects_dir);
  connect(presets_, &QComboBox::currentIndexChanged, this, [this](int i) {
    if (i > 0 && i <= static_cast<int>(preset_configs_.size())) apply_preset(preset_configs_[static_cast<size_t>(i - 1)]);
  });
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  for (QComboBox* c : {model_, data_, gate_probe_data_, peft_, variant_, optimizer_, schedule_, device_, dtype_}) {
    connect(c, &QComboBox::currentTextChanged, this, &RunDialog::validate);
  }
  for (QCheckBox* c : modules_) connect(c, &QCheckBox::toggled, this, &RunDialog::validate);
  connect(rslora_, &QCheckBox::toggled, this, &RunDialog::validate);
  for (QSpinBox* s : {lora_r_, gate_rank_, gate_probe_, batch_, accumulation_, epochs_, max_in_, max_out_, save_steps_, top_rank_, tinit_, tfinal_, delta_t_})
    connect(s, &QSpinBox::valueChanged, this, &RunDialog::validate);
  for (QDoubleSpinBox* s : {lora_alpha_, lora_dropout_, gate_dropout_, lr_, weight_decay_, warmup_, max_grad_norm_, orth_reg_})
    connect(s, &QDoubleSpinBox::valueChanged, this, &RunDialog::validate);
  for (QLineEdit* e : {seeds_, label_, output_dir_, input_field_, output_field_, instruction_field_})
    connect(e, &QLineEdit::textChanged, this, &RunDialog::validate);
  validate();
}

void RunDialog::load_presets(const QString& projects_dir) {
  presets_->addItem(tr("(none)"));
  for (const QString& f : QDir(projects_dir).entryList({"*.json"}, QDir::Files, QDir::Name)) {
    try {
      const ProjectPlan plan = plan_project(QDir(projects_dir).filePath(f).toStdString());
      for (size_t i = 0; i < plan.runs.size(); ++i) {
        presets_->addItem(QString::fromStdString(plan.name + ": " + plan.run_labels[i]));
        preset_configs_.push_back(plan.runs[i].to_json());
        for (const auto& [key, request] : plan.data)  // the files this run reads: training data, probe data
          if (request.out == plan.runs[i].data_path || request.out == plan.runs[i].gate_probe_data) project_data_[request.out] = request;
      }
    } catch (const std::exception&) {
      // Not a project file (pretraining recipes, suites live beside them).
    }
  }
}

void RunDialog::apply_preset(const nlohmann::json& c) {
  preset_.update(c);  // keys without a field here (dataset, save_steps, ...) go on with the run
  for (const auto& [key, value] : c.items()) {
    if (key == "target_modules" && value.is_array()) {
      for (QCheckBox* m : modules_) m->setChecked(false);
      for (const auto& name : value)
        for (QCheckBox* m : modules_)
          if (name.is_string() && m->text().toStdString() == name.get<std::string>()) m->setChecked(true);
    } else if (key == "use_rslora" && value.is_boolean()) {
      rslora_->setChecked(value.get<bool>());
    } else {
      set_field(QString::fromStdString(key), value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString::fromStdString(value.dump()));
    }
  }
  validate();
}

void RunDialog::set_field(const QString& key, const QString& v) {
  if (key == "model_path") set_combo(model_, v);
  else if (key == "data_path") set_combo(data_, v);
  else if (key == "peft") set_combo(peft_, v);
  else if (key == "variant") set_combo(variant_, v);
  else if (key == "optimizer") set_combo(optimizer_, v);
  else if (key == "lr_schedule") set_combo(schedule_, v);
  else if (key == "device") set_combo(device_, v);
  else if (key == "dtype") set_combo(dtype_, v);
  else if (key == "lora_r") lora_r_->setValue(v.toInt());
  else if (key == "gate_rank") gate_rank_->setValue(v.toInt());
  else if (key == "gate_probe_examples") gate_probe_->setValue(v.toInt());
  else if (key == "gate_probe_data") set_combo(gate_probe_data_, v);
  else if (key == "batch_size") batch_->setValue(v.toInt());
  else if (key == "accumulation_steps") accumulation_->setValue(v.toInt());
  else if (key == "num_epochs") epochs_->setValue(v.toInt());
  else if (key == "max_input_length") max_in_->setValue(v.toInt());
  else if (key == "max_output_length") max_out_->setValue(v.toInt());
  else if (key == "lora_alpha") lora_alpha_->setValue(v.toDouble());
  else if (key == "lora_dropout") lora_dropout_->setValue(v.toDouble());
  else if (key == "dropout_prob") gate_dropout_->setValue(v.toDouble());
  else if (key == "learning_rate") lr_->setValue(v.toDouble());
  else if (key == "weight_decay") weight_decay_->setValue(v.toDouble());
  else if (key == "num_warmup_ratio") warmup_->setValue(v.toDouble());
  else if (key == "seed") seeds_->setText(v);
  else if (key == "output_dir") output_dir_->setText(v);
  else if (key == "label") label_->setText(v);
  else if (key == "save_steps") save_steps_->setValue(v.toInt());
  else if (key == "max_grad_norm") max_grad_norm_->setValue(v.toDouble());
  else if (key == "top_rank") top_rank_->setValue(v.toInt());
  else if (key == "tinit") tinit_->setValue(v.toInt());
  else if (key == "tfinal") tfinal_->setValue(v.toInt());
  else if (key == "deltaT") delta_t_->setValue(v.toInt());
  else if (key == "orth_reg_weight") orth_reg_->setValue(v.toDouble());
  else if (key == "input_field") input_field_->setText(v);
  else if (key == "output_field") output_field_->setText(v);
  else if (key == "instruction_field") instruction_field_->setText(v);
}

nlohmann::json RunDialog::config_json() const {
  nlohmann::json j = preset_.is_object() ? preset_ : nlohmann::json::object();
  if (j.contains("dataset") && j.value("data_path", "") != data_->currentText().toStdString()) j.erase("dataset");  // names other data
  nlohmann::json modules = nlohmann::json::array();
  for (QCheckBox* m : modules_)
    if (m->isChecked()) modules.push_back(m->text().toStdString());
  j.update(nlohmann::json{{"model_path", model_->currentText().toStdString()}, {"data_path", data_->currentText().toStdString()},
                      {"peft", peft_->currentText().toStdString()}, {"variant", variant_->currentText().toStdString()},
                      {"target_modules", modules}, {"lora_r", lora_r_->value()}, {"lora_alpha", lora_alpha_->value()},
                      {"lora_dropout", lora_dropout_->value()}, {"use_rslora", rslora_->isChecked()}, {"gate_rank", gate_rank_->value()},
                      {"dropout_prob", gate_dropout_->value()}, {"gate_probe_examples", gate_probe_->value()},
                      {"gate_probe_data", gate_probe_data_->currentText().toStdString()}, {"optimizer", optimizer_->currentText().toStdString()},
                      {"learning_rate", lr_->value()}, {"weight_decay", weight_decay_->value()},
                      {"lr_schedule", schedule_->currentText().toStdString()}, {"num_warmup_ratio", warmup_->value()},
                      {"batch_size", batch_->value()}, {"accumulation_steps", accumulation_->value()}, {"num_epochs", epochs_->value()},
                      {"max_input_length", max_in_->value()}, {"max_output_length", max_out_->value()},
                      {"device", device_->currentText().toStdString()}, {"dtype", dtype_->currentText().toStdString()},
                      {"output_dir", output_dir_->text().toStdString()}, {"label", label_->text().trimmed().toStdString()},
                      {"save_steps", save_steps_->value()},
                      {"max_grad_norm", max_grad_norm_->value()}, {"top_rank", top_rank_->value()}, {"tinit", tinit_->value()},
                      {"tfinal", tfinal_->value()}, {"deltaT", delta_t_->value()}, {"orth_reg_weight", orth_reg_->value()},
                      {"input_field", input_field_->text().toStdString()}, {"output_field", output_field_->text().toStdString()},
                      {"instruction_field", instruction_field_->text().toStdString()}});
  return j;
}

std::vector<TrainConfig> RunDialog::configs() const {
  return expand_seeds(config_json(), seeds_->text().toStdString(), "run settings");
}

QString RunDialog::error_text() const { return error_->text(); }
QString RunDialog::note_text() const { return note_->text(); }

std::vector<DataRequest> RunDialog::pending_data() const {
  std::vector<DataRequest> out;
  for (const QString& path : {data_->currentText(), gate_probe_data_->currentText()}) {
    const auto it = project_data_.find(path.toStdString());
    if (it != project_data_.end() && !QFileInfo(path).isFile() && (out.empty() || out.back().out != it->first)) out.push_back(it->second);
  }
  return out;
}

bool RunDialog::project_makes(const QString& path) const { return project_data_.count(path.toStdString()) > 0; }

QString RunDialog::make_missing_data() {
  const std::vector<DataRequest> requests = pending_data();
  if (!requests.empty()) {
    // The engine makes the data on a pool thread; the dialog waits without blocking the GUI thread (and takes no input meanwhile).
    setEnabled(false);
    note_->setText(tr("Making the data…"));
    QFutureWatcher<QString> watcher;
    QEventLoop loop;
    connect(&watcher, &QFutureWatcher<QString>::finished, &loop, &QEventLoop::quit);
    watcher.setFuture(QtConcurrent::run([requests] {
      try {
        for (const auto& request : requests) {
          QDir().mkpath(QFileInfo(QString::fromStdString(request.out)).absolutePath());
          make_data(request);
        }
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
  const QString error = make_missing_data();
  if (!error.isEmpty()) {
    error_->setText(error);
    error_->setVisible(true);
    return;
  }
  QDialog::accept();
}

void RunDialog::validate() {
  QString message;
  try {
    const auto runs = configs();
    if (std::none_of(modules_.begin(), modules_.end(), [](QCheckBox* m) { return m->isChecked(); }))
      message = tr("target_modules: check at least one module");
    else
      message = QString::fromStdString(
          missing_input(runs.front(), [this](const std::string& path) { return project_makes(QString::fromStdString(path)); }));
  } catch (const std::exception& e) {
    message = QString::fromUtf8(e.what());
  }
  QStringList made;
  for (const auto& request : pending_data())
    made << tr("%1 records of the bundled task \"%2\" (seed %3) into %4")
                .arg(request.count)
                .arg(QString::fromStdString(request.task))
                .arg(request.seed)
                .arg(QString::fromStdString(request.out));
  note_->setText(made.isEmpty() ? QString() : tr("Start first makes the data, as the project would: %1").arg(made.join("; ")));
  note_->setVisible(!made.isEmpty());
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(message.isEmpty());
}

}  // namespace imsm::ui
