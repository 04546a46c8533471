// The workbench window: it only wires the parts together — library panes
// (models, datasets, runs), the views (training curves), the worker and its
// progress bar — and keeps the window's settings (recent workspaces, layout).
#pragma once
#include <QMainWindow>
#include <QString>

#include <memory>

#include "live_run.h"

class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTimer;

namespace imsm::ui {

class DatasetsPane;
class ForgettingView;
class GateScopePane;
class ArenaView;
class InspectorView;
class ModelsPane;
class RunWorker;
class RunsModel;
class ResourceView;
class RunsPane;
class TrainingView;
struct Job;

// Help -> About: the engine's version, LibTorch, CUDA, devices, BLAS (as `imsm env`).
QString about_text();

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  bool open_workspace(const QString& path);  // false (and a message) when it is not a workspace
  const QString& workspace() const { return workspace_; }
  void enqueue(const Job& job);
  RunWorker* worker() const { return worker_.get(); }
  RunsPane* runs_pane() const { return runs_pane_; }
  ModelsPane* models_pane() const { return models_; }
  DatasetsPane* datasets_pane() const { return datasets_; }
  TrainingView* training_view() const { return training_; }
  ForgettingView* forgetting_view() const { return forgetting_; }
  InspectorView* inspector() const { return inspector_; }
  ArenaView* arena() const { return arena_; }
  ResourceView* resources() const { return resources_; }
  GateScopePane* gate_scope() const { return gate_scope_; }
  QTabWidget* views() const { return views_; }
  QTabWidget* library() const { return library_; }  // the models, datasets and runs panes
  QProgressBar* progress_bar() const { return progress_; }
  void refresh();  // re-reads the workspace (runs, library)

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void make_library();
  void make_views();
  void make_status_bar();
  void build_menus();
  void connect_worker();
  void connect_panes();
  void on_timer();
  void on_job_finished(const QString& name, qint64 run_id, RunStatus status, const QString& message);
  void update_recent_menu();
  void choose_and_run_project();
  void new_run();
  void evaluate_runs(const QList<qint64>& ids);  // asks what to evaluate on, queues it
  void show_flips(qint64 run_a, qint64 run_b);   // the items that flipped; a double click opens one in the inspector
  void show_probes(qint64 run_id);
  QString projects_dir() const;

  QString workspace_;
  LiveRun live_;
  std::unique_ptr<RunWorker> worker_;
  RunsModel* runs_model_;
  RunsPane* runs_pane_;
  ModelsPane* models_;
  DatasetsPane* datasets_;
  TrainingView* training_;
  ForgettingView* forgetting_;
  InspectorView* inspector_;
  ArenaView* arena_;
  ResourceView* resources_;
  GateScopePane* gate_scope_;
  QTabWidget* library_;
  QTabWidget* views_;
  QProgressBar* progress_;
  QLabel* status_;
  QPushButton* cancel_;
  QMenu* recent_menu_;
  QTimer* timer_;
  uint64_t seen_version_ = 0;
  int ticks_ = 0;
};

}  // namespace imsm::ui
