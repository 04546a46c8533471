#include "main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include <exception>

#include "evaluate_dialog.h"
#include "export.h"
#include "forgetting_view.h"
#include "flips_dialog.h"
#include "arena_view.h"
#include "inspector_view.h"
#include "gate_scope_pane.h"
#include "library_panes.h"
#include "resource_view.h"
#include "run_worker.h"
#include "runs_model.h"
#include "run_dialog.h"
#include "runs_pane.h"
#include "sweep_chart.h"
#include "recipes/environment.h"
#include "store/workspace.h"
#include "training_view.h"
#include "util/table.h"

namespace imsm::ui {

namespace {
QString eta_text(double seconds) {
  const std::string t = format_duration(seconds);
  return t.empty() ? QString("?") : QString::fromStdString(t);
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("IMSM Workbench"));
  worker_ = std::make_unique<RunWorker>(&live_);
  runs_model_ = new RunsModel(this);
  runs_pane_ = new RunsPane(runs_model_, this);
  models_ = new ModelsPane(this);
  datasets_ = new DatasetsPane(this);
  training_ = new TrainingView(this);
  forgetting_ = new ForgettingView(this);
  inspector_ = new InspectorView(this);
  arena_ = new ArenaView(this);
  resources_ = new ResourceView(system_sampler(), std::chrono::milliseconds(1000), this);
  gate_scope_ = new GateScopePane(this);

  make_library();
  make_views();
  make_status_bar();
  build_menus();
  connect_worker();
  connect_panes();

  timer_ = new QTimer(this);
  timer_->setInterval(200);
  connect(timer_, &QTimer::timeout, this, &MainWindow::on_timer);
  timer_->start();

  QSettings settings;
  resize(1280, 800);
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
}

// The library dock: the runs, models and datasets panes.
void MainWindow::make_library() {
  library_ = new QTabWidget(this);
  library_->addTab(runs_pane_, tr("&Runs"));
  library_->addTab(models_, tr("&Models"));
  library_->addTab(datasets_, tr("&Datasets"));
  auto* dock = new QDockWidget(tr("Library"), this);
  dock->setObjectName("library");
  dock->setWidget(library_);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  resizeDocks({dock}, {480}, Qt::Horizontal);
}

// The views, one tab each.
void MainWindow::make_views() {
  views_ = new QTabWidget(this);
  views_->addTab(training_, tr("Training"));
  views_->addTab(forgetting_, tr("Forgetting"));
  views_->setTabToolTip(1, tr("Scores of the base model and every method on each benchmark: what fine-tuning cost"));
  views_->addTab(inspector_, tr("Memory mixing"));
  views_->setTabToolTip(2, tr("Generate with an IMSM run and see, token by token, how much each draws on the original and the fine-tuned model"));
  views_->addTab(arena_, tr("Chat arena"));
  views_->setTabToolTip(3, tr("One conversation answered side by side by the base model, the run's adapter alone and IMSM's mix"));
  views_->addTab(gate_scope_, tr("Gate scope"));
  views_->setTabToolTip(4, tr("The whole gate of the answer shown in Memory mixing, tokens × hidden dimensions, drawn on the GPU: "
                              "wheel to zoom, drag to pan, hover to read g; dimensions ordered by index, mean gate or variance"));
  views_->addTab(resources_, tr("Resources"));
  views_->setTabToolTip(5, tr("The machine's load, live: this process's CPU and memory, each GPU's utilisation, memory, temperature and power; "
                              "each run keeps its own samples (peak memory in the Runs table and the report)"));
  setCentralWidget(views_);
}

// The status line, the job's progress and Cancel.
void MainWindow::make_status_bar() {
  status_ = new QLabel(tr("Idle"), this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(260);
  progress_->setTextVisible(true);
  progress_->hide();
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setToolTip(tr("Stop the running job after its current step (Ctrl+.); a checkpoint is kept and the run can be resumed"));
  cancel_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
  cancel_->setEnabled(false);
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
}

// The worker's signals: a job started, a run created, a job finished, a model imported; Cancel.
void MainWindow::connect_worker() {
  connect(cancel_, &QPushButton::clicked, worker_.get(), &RunWorker::cancel);
  connect(worker_.get(), &RunWorker::job_started, this, [this](const QString& name) {
    status_->setText(tr("Running %1").arg(name));
    cancel_->setEnabled(true);
  });
  connect(worker_.get(), &RunWorker::run_created, this, [this] { refresh(); });
  connect(worker_.get(), &RunWorker::job_finished, this, &MainWindow::on_job_finished);
  connect(worker_.get(), &RunWorker::model_imported, models_, &ModelsPane::add_model);
}

// The panes and views to each other, and what they ask of the worker.
void MainWindow::connect_panes() {
  connect(runs_pane_, &RunsPane::selection_changed, this, [this](const QList<qint64>& ids) {
    try {
      training_->show_runs(workspace_, ids);
      forgetting_->show_workspace(workspace_, ids);
      if (ids.size() == 1) inspector_->show_run(ids.front());
      if (ids.size() == 1) arena_->select_run(ids.front());
      if (ids.size() == 1) show_probes(ids.front());
    } catch (const std::exception& e) {
      status_->setText(QString::fromUtf8(e.what()));
    }
  });
  connect(runs_pane_, &RunsPane::resume_requested, this, [this](qint64 id) {
    enqueue({tr("resume of run %1").arg(id), ResumeJob{workspace_, id}});
  });
  connect(runs_pane_, &RunsPane::export_requested, this, [this](qint64 id) {
    const auto request = ask_model_export(this, workspace_, id);
    if (!request) return;
    enqueue({tr("export of run %1").arg(id), ExportJob{*request}});
  });
  connect(runs_pane_, &RunsPane::evaluate_requested, this, &MainWindow::evaluate_runs);
  connect(models_, &ModelsPane::import_gguf_requested, this, [this](const QString& gguf, const QString& out) {
    ImportGgufRequest request;
    request.gguf_path = gguf.toStdString();
    request.out_dir = out.toStdString();
    enqueue({tr("import of %1").arg(QFileInfo(gguf).fileName()), ImportGgufJob{request}});
  });
  connect(runs_pane_, &RunsPane::sweep_chart_requested, this, [this](const QString& sweep) {
    auto* chart = new SweepChart(workspace_, sweep, this);
    chart->setAttribute(Qt::WA_DeleteOnClose);
    chart->show();
  });
  connect(runs_pane_, &RunsPane::flips_requested, this, &MainWindow::show_flips);
  connect(inspector_, &InspectorView::tokens_shown, this, [this](const QString& title) {
    gate_scope_->set_gate(GateMatrix::of(inspector_->tokens()), title);
  });
  connect(models_, &ModelsPane::model_selected, datasets_, &DatasetsPane::set_tokenizer);
}

MainWindow::~MainWindow() = default;

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open workspace…"), QKeySequence::Open, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Open a workspace"), {}, tr("IMSM workspaces (*.imsm);;All files (*)"));
    if (!f.isEmpty()) open_workspace(f);
  });
  recent_menu_ = file->addMenu(tr("Open &recent"));
  update_recent_menu();
  file->addAction(tr("&Export report…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, tr("Export the report (selected runs, or all)"), "report.html",
                                                   tr("HTML (*.html);;Markdown (*.md);;CSV (*.csv);;PDF (*.pdf)"));
    if (f.isEmpty()) return;
    const QString error = export_report(workspace_, runs_pane_->selected_ids(), f);
    if (error.isEmpty()) status_->setText(tr("Report written to %1").arg(f));
    else QMessageBox::warning(this, tr("Export failed"), error);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(tr("&New run…"), QKeySequence::New, this, &MainWindow::new_run);
  run->addAction(tr("&Evaluate runs…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this,
                 [this] { evaluate_runs(runs_pane_->selected_ids()); });
  run->addAction(tr("Run &project…"), QKeySequence(Qt::CTRL | Qt::Key_P), this, &MainWindow::choose_and_run_project);
  run->addAction(tr("&Cancel running job"), worker_.get(), &RunWorker::cancel);
  run->addAction(tr("Cancel &all jobs"), worker_.get(), &RunWorker::cancel_all);
  run->addAction(tr("Re&fresh"), QKeySequence::Refresh, this, &MainWindow::refresh);
  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < views_->count(); ++i)
    view->addAction(views_->tabText(i), QKeySequence(Qt::CTRL | (Qt::Key_1 + i)), this, [this, i] { views_->setCurrentIndex(i); });
  view->addAction(tr("&Find runs"), QKeySequence::Find, this, [this] { runs_pane_->filter()->setFocus(); });
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("IMSM in brief"), QKeySequence::HelpContents, this, [this] {
    QMessageBox::information(
        this, tr("IMSM in brief"),
        tr("<p><b>IMSM</b> (Interweaving Memories of a Siamese LLM) fine-tunes a model with a PEFT method (LoRA, (IA)³, "
           "AdaLoRA, DoRA) and keeps the original model beside it: both read the same input, and a <b>gate</b> mixes "
           "their last hidden states per token and per dimension, h = g·h<sub>original</sub> + (1−g)·h<sub>fine-tuned</sub>.</p>"
           "<p><b>g</b> near 1 (blue): the token draws on the original model's memory; near 0 (orange): on the fine-tuned one. "
           "The <b>query</b> variant conditions the gate on the mean of the question's hidden states (query_mean).</p>"
           "<p><b>Forgetting</b>: a drop from the base model's score on a knowledge probe after fine-tuning. The Forgetting "
           "view shows it per benchmark; the Memory mixing view shows the gate token by token.</p>"));
  });
  help->addAction(tr("&About IMSM Workbench"), this, [this] {
    QMessageBox::about(this, tr("About IMSM Workbench"), about_text());
  });
}

QString about_text() {
  const EngineEnvironment env = engine_environment();  // what `imsm env` prints
  QString cuda = env.cuda_compiled
                     ? QObject::tr("compiled (CUDA %1, cuDNN %2), %3 GPU(s) visible")
                           .arg(QString::fromStdString(env.cuda_version), QString::fromStdString(env.cudnn_version.empty() ? "none" : env.cudnn_version))
                           .arg(env.cuda_devices)
                     : QObject::tr("not compiled (a CPU-only LibTorch)");
  for (const auto& d : env.devices) cuda += "<br>" + QString::fromStdString(d).toHtmlEscaped();
  return QObject::tr("<p><b>IMSM Workbench %1</b></p><table>"
                     "<tr><td>LibTorch</td><td>%2</td></tr><tr><td>CUDA</td><td>%3</td></tr>"
                     "<tr><td>CPU</td><td>%4, %5 threads</td></tr><tr><td>BLAS</td><td>%6</td></tr></table>")
      .arg(QString::fromStdString(env.engine), QString::fromStdString(env.libtorch), cuda,
           QString::fromStdString(env.cpu).toHtmlEscaped())
      .arg(env.threads)
      .arg(QString::fromStdString(env.blas).toHtmlEscaped());
}

bool MainWindow::open_workspace(const QString& path) {
  try {
    store::Workspace ws(path.toStdString());  // creates or migrates it; runs of dead processes become "interrupted"
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot open the workspace"), QString::fromUtf8(e.what()));
    return false;
  }
  workspace_ = QFileInfo(path).absoluteFilePath();
  setWindowTitle(tr("%1 — IMSM Workbench").arg(QFileInfo(path).fileName()));
  QSettings settings;
  QStringList recent = settings.value("recent").toStringList();
  recent.removeAll(workspace_);
  recent.prepend(workspace_);
  while (recent.size() > 8) recent.removeLast();
  settings.setValue("recent", recent);
  update_recent_menu();
  models_->set_workspace(workspace_);
  datasets_->set_workspace(workspace_);
  inspector_->set_workspace(workspace_);
  arena_->set_workspace(workspace_);
  refresh();
  training_->show_runs(workspace_, {});  // the latest runs until some are selected
  if (forgetting_->has_results()) views_->setCurrentWidget(forgetting_);  // what fine-tuning cost, first
  return true;
}

void MainWindow::update_recent_menu() {
  recent_menu_->clear();
  for (const QString& f : QSettings().value("recent").toStringList())
    recent_menu_->addAction(f, this, [this, f] { open_workspace(f); });
  recent_menu_->setEnabled(!recent_menu_->isEmpty());
}

void MainWindow::refresh() {
  if (workspace_.isEmpty()) return;
  try {
    store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    const QList<qint64> selected = runs_pane_->selected_ids();
    runs_model_->set_rows(run_summaries(ws));
    runs_pane_->select_ids(selected);
    if (selected.isEmpty()) training_->show_runs(workspace_, {});  // the latest, a new run among them
    if (!worker_->busy()) forgetting_->show_workspace(workspace_, runs_pane_->selected_ids());
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
}

void MainWindow::enqueue(const Job& job) {
  worker_->enqueue(job);
  if (!worker_->busy()) status_->setText(tr("Queued %1").arg(job.name));
}

void MainWindow::choose_and_run_project() {
  const QString f = QFileDialog::getOpenFileName(this, tr("Run an experiment project"), "projects", tr("Projects (*.json)"));
  if (f.isEmpty()) return;
  enqueue({QFileInfo(f).completeBaseName(), ProjectJob{f}});
}

QString MainWindow::projects_dir() const {
  for (const QString& d : {QDir::current().filePath("projects"), QDir(QApplication::applicationDirPath()).filePath("../../projects")})
    if (QFileInfo(d).isDir()) return QFileInfo(d).canonicalFilePath();
  return {};
}

void MainWindow::new_run() {
  QStringList models, datasets;
  try {
    store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const auto& m : ws.models()) models << QString::fromStdString(m.path);
    for (const auto& d : ws.datasets())
      if (!datasets.contains(QString::fromStdString(d.path))) datasets << QString::fromStdString(d.path);
  } catch (const std::exception& e) {
    status_->setText(tr("The workspace's models and datasets could not be listed (%1): browse for them in the dialog")
                         .arg(QString::fromUtf8(e.what())));
  }
  RunDialog dialog(models, datasets, projects_dir(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  for (const TrainConfig& c : dialog.configs()) {
    QString name = c.sweep.empty() ? tr("%1 %2 seed %3").arg(QString::fromStdString(method_name(c.peft)), QString::fromStdString(variant_name(c.variant))).arg(c.seed)
                                   : tr("%1 seed %2 (sweep %3)").arg(QString::fromStdString(c.label)).arg(c.seed).arg(QString::fromStdString(c.sweep));
    const int processes = dialog.processes();
    if (processes > 1) name += tr(" on %1 processes").arg(processes);
    enqueue({name, TrainJob{workspace_, c, processes}});
  }
}

// The selected IMSM training run's gate probes per dimension into the gate scope's waterfall.
void MainWindow::show_probes(qint64 run_id) {
  const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
  const store::RunRecord run = ws.run(run_id);
  if (run.kind != "train") return;
  GateMatrix m = GateMatrix::of(gate_probes_of(run));
  if (m.tokens) gate_scope_->set_probes(std::move(m), tr("training probes of run %1").arg(run_id));
}

void MainWindow::show_flips(qint64 run_a, qint64 run_b) {
  auto* dialog = new FlipsDialog(workspace_, run_a, run_b, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &FlipsDialog::open_requested, this, [this](qint64 run, const QString& benchmark, int example) {
    if (inspector_->open_trace(run, benchmark, example)) views_->setCurrentWidget(inspector_);
  });
  dialog->show();
}

void MainWindow::evaluate_runs(const QList<qint64>& ids) {
  if (workspace_.isEmpty()) return;
  EvaluateDialog dialog(workspace_, ids, projects_dir(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  const RunsEvalRequest request = dialog.request();
  QStringList names;
  for (const int64_t id : request.run_ids) names << QString::number(id);
  enqueue({tr("evaluation of run(s) %1").arg(names.join(", ")), EvaluateJob{request}});
}

void MainWindow::on_timer() {
  const uint64_t v = live_.version();
  if (v != seen_version_) {
    seen_version_ = v;
    const LiveSnapshot s = live_.snapshot();
    if (worker_->busy() && s.total_steps > 0) {
      progress_->show();
      progress_->setRange(0, static_cast<int>(s.total_steps));
      progress_->setValue(static_cast<int>(s.step));
      progress_->setFormat(tr("%v/%m · ETA %1").arg(eta_text(s.eta_seconds)));
      status_->setText(tr("%1 — %2").arg(QString::fromStdString(s.name), QString::fromStdString(s.phase)));
    }
    training_->update_live(s);
  }
  if (++ticks_ % 10 == 0 && worker_->busy()) refresh();  // the workspace is the source of truth: statuses, flushed metrics
}

void MainWindow::on_job_finished(const QString& name, qint64 run_id, RunStatus s, const QString& message) {
  progress_->hide();
  cancel_->setEnabled(worker_->pending() > 0);
  status_->setText(s != RunStatus::Finished ? tr("%1: %2").arg(name, status_name(s)) : message.isEmpty() ? tr("%1 finished").arg(name) : message);
  refresh();
  models_->reload();  // runs add their model and data to the library
  datasets_->reload();
  if (s == RunStatus::Finished) {
    inspector_->set_workspace(workspace_);
    arena_->set_workspace(workspace_);
  }
  if (s == RunStatus::Failed) {
    auto* box = new QMessageBox(QMessageBox::Critical, tr("The run failed"), tr("%1 failed:\n%2").arg(name, message), QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (worker_->busy() || worker_->pending() > 0) {
    const auto answer = QMessageBox::question(this, tr("A run is in progress"),
                                              tr("Stop the running job (it keeps a checkpoint and can be resumed) and quit?"));
    if (answer != QMessageBox::Yes) return event->ignore();
    worker_->cancel_all();
  }
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  event->accept();
}

}  // namespace imsm::ui
