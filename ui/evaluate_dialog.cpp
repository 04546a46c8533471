#include "evaluate_dialog.h"

#include <QButtonGroup>
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
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <exception>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "model/cuda_device.h"
#include "runs_model.h"
#include "store/workspace.h"

namespace imsm::ui {

QStringList suites_to_offer(const QString& workspace, const QString& projects_dir) {
  QStringList out;
  if (!projects_dir.isEmpty())
    for (const QFileInfo& f : QDir(projects_dir + "/suites").entryInfoList({"*.json"}, QDir::Files, QDir::Name)) out << f.canonicalFilePath();
  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const auto& r : ws.runs()) {
      if (r.kind != "eval") continue;
      const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
      if (!config.is_object() || !config.contains("suite") || !config["suite"].is_string()) continue;
      const QFileInfo f(QString::fromStdString(config["suite"].get<std::string>()));
      if (f.isFile() && !out.contains(f.canonicalFilePath())) out.prepend(f.canonicalFilePath());  // the workspace's own first
    }
  } catch (const std::exception&) {
    // no workspace: the projects' suites only
  }
  return out;
}

EvaluateDialog::EvaluateDialog(const QString& workspace, const QList<qint64>& selected, const QString& projects_dir, QWidget* parent)
    : QDialog(parent), workspace_(workspace) {
  setWindowTitle(tr("Evaluate runs"));
  make_fields(projects_dir);
  fill_runs(selected);
  fill_datasets();
  lay_out();
  (suite_->count() > 0 ? suite_mode_ : dataset_mode_)->setChecked(true);
  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("A benchmark suite"), suite_->currentText(), tr("Suites (*.json)"));
    if (!f.isEmpty()) use_suite(f);
  });
  connect(runs_, &QListWidget::itemChanged, this, &EvaluateDialog::update_plan);
  connect(modes_, &QButtonGroup::buttonToggled, this, &EvaluateDialog::update_plan);
  for (QComboBox* c : {suite_, dataset_, task_, device_}) connect(c, &QComboBox::currentTextChanged, this, &EvaluateDialog::update_plan);
  connect(limit_, &QSpinBox::valueChanged, this, &EvaluateDialog::update_plan);
  connect(base_, &QCheckBox::toggled, this, &EvaluateDialog::update_plan);
  connect(full_gate_, &QCheckBox::toggled, this, &EvaluateDialog::update_plan);
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  update_plan();
}

void EvaluateDialog::make_fields(const QString& projects_dir) {
  runs_ = new QListWidget(this);
  runs_->setToolTip(tr("The finished training runs whose adapters to evaluate; their base models are evaluated beside them"));
  suite_mode_ = new QRadioButton(tr("&Suite"), this);
  suite_mode_->setToolTip(tr("Every benchmark of a suite, for the base model and each run: the forgetting table"));
  dataset_mode_ = new QRadioButton(tr("&Dataset"), this);
  modes_ = new QButtonGroup(this);
  modes_->addButton(suite_mode_);
  modes_->addButton(dataset_mode_);
  suite_ = new QComboBox(this);
  suite_->setEditable(true);
  suite_->addItems(suites_to_offer(workspace_, projects_dir));
  browse_ = new QPushButton(tr("Browse…"), this);
  dataset_ = new QComboBox(this);
  dataset_->setEditable(true);
  task_ = new QComboBox(this);
  for (const std::string& t : official_tasks()) task_->addItem(QString::fromStdString(t));
  task_->setToolTip(tr("The task names the metrics (gsm8k: EM on the final number; webq: EM and Contain; …)"));
  limit_ = new QSpinBox(this);
  limit_->setRange(0, 10000000);
  limit_->setSpecialValueText(tr("all"));
  limit_->setPrefix(tr("first "));
  base_ = new QCheckBox(tr("Also the base model"), this);
  base_->setChecked(true);
  device_ = new QComboBox(this);
  device_->addItem("cpu");
  for (const CudaDevice& d : cuda_devices(false))
    device_->addItem(QString("cuda:%1").arg(d.index), QString::fromStdString(d.name));
  device_->setToolTip(tr("Where the models run (a GPU is listed when LibTorch sees one)"));
  full_gate_ = new QCheckBox(tr("Keep each token's whole gate (for the gate views; a larger workspace)"), this);
  full_gate_->setChecked(true);
  plan_ = new QLabel(this);
  plan_->setWordWrap(true);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("&Queue"));
}

// The workspace's datasets, offered for the dataset mode.
void EvaluateDialog::fill_datasets() {
  try {
    const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const auto& d : ws.datasets())
      if (dataset_->findText(QString::fromStdString(d.path)) < 0) dataset_->addItem(QString::fromStdString(d.path));
  } catch (const std::exception&) {
    // said by the plan line: plan_runs_eval opens the same workspace and shows why it cannot
  }
}

void EvaluateDialog::lay_out() {
  auto* suite_row = new QHBoxLayout;
  suite_row->addWidget(suite_, 1);
  suite_row->addWidget(browse_);
  auto* dataset_row = new QHBoxLayout;
  dataset_row->addWidget(dataset_, 1);
  dataset_row->addWidget(task_);
  dataset_row->addWidget(limit_);
  auto* form = new QFormLayout;
  form->addRow(suite_mode_, suite_row);
  form->addRow(dataset_mode_, dataset_row);
  form->addRow(QString(), base_);
  form->addRow(tr("De&vice"), device_);
  form->addRow(QString(), full_gate_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("Runs to evaluate:"), this));
  layout->addWidget(runs_, 1);
  layout->addLayout(form);
  layout->addWidget(plan_);
  layout->addWidget(buttons_);
  resize(640, 520);
}

// Every finished training run, newest first; the selected ones checked.
void EvaluateDialog::fill_runs(const QList<qint64>& selected) {
  try {
    const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto runs = ws.runs();
    for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
      if (r->kind != "train" || r->status != RunStatus::Finished) continue;
      auto* item = new QListWidgetItem(run_title(*r) + " · " + QFileInfo(QString::fromStdString(r->model_path)).fileName(), runs_);
      item->setData(Qt::UserRole, QVariant::fromValue<qlonglong>(r->id));
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(selected.contains(r->id) ? Qt::Checked : Qt::Unchecked);
    }
  } catch (const std::exception&) {
    // said by the plan line
  }
}

void EvaluateDialog::use_suite(const QString& path) {
  suite_->setCurrentText(path);
  suite_mode_->setChecked(true);
}

void EvaluateDialog::use_dataset(const QString& path, const QString& task) {
  dataset_->setCurrentText(path);
  task_->setCurrentText(task);
  dataset_mode_->setChecked(true);
}

RunsEvalRequest EvaluateDialog::request() const {
  RunsEvalRequest q;
  q.workspace = workspace_.toStdString();
  for (int i = 0; i < runs_->count(); ++i)
    if (runs_->item(i)->checkState() == Qt::Checked) q.run_ids.push_back(runs_->item(i)->data(Qt::UserRole).toLongLong());
  if (suite_mode_->isChecked()) {
    q.suite = suite_->currentText().trimmed().toStdString();
  } else {
    q.dataset = dataset_->currentText().trimmed().toStdString();
    q.task = task_->currentText().toStdString();
    q.limit = limit_->value();
    q.base = base_->isChecked();
  }
  q.device = parse_device_spec(device_->currentText().toStdString(), "device", tr("Device").toStdString());  // the plan line says a bad one
  q.full_gate = full_gate_->isChecked();
  return q;
}

void EvaluateDialog::update_plan() {
  const bool suite = suite_mode_->isChecked();
  suite_->setEnabled(suite);
  for (QWidget* w : std::initializer_list<QWidget*>{dataset_, task_, limit_, base_}) w->setEnabled(!suite);
  try {
    const RunsEvalRequest q = request();
    const RunsEvalPlan plan = plan_runs_eval(q);
    size_t reused = 0;
    for (const auto& s : plan.suites)
      for (const int64_t id : s.reuse) reused += id != 0;
    const size_t n = plan.subjects();
    QString text = tr("Queues %n evaluation(s)", nullptr, static_cast<int>(n));
    if (suite) text += tr(" of the suite on %n base model(s) and their runs", nullptr, static_cast<int>(plan.suites.size()));
    if (reused) text += tr("; %n already in the workspace with the same files and settings will be read back", nullptr, static_cast<int>(reused));
    plan_->setText(text + ".");
    plan_->setStyleSheet({});
    valid_ = true;
  } catch (const std::exception& e) {
    plan_->setText(QString::fromUtf8(e.what()));
    plan_->setStyleSheet("color: #b00020");
    valid_ = false;
  }
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(valid_);
}

QString EvaluateDialog::plan_text() const { return plan_->text(); }

bool EvaluateDialog::valid() const { return valid_; }

}  // namespace imsm::ui
