// The memory-mixing inspector: pick a training run with an IMSM adapter and a
// prompt (typed, or an example of its dataset), generate with IMSM, and see
// the answer's tokens coloured by mean gate (original ↔ fine-tuned memory), a
// per-token plot of the gate (mean with its min–max band); the full gate
// (tokens × hidden dimensions) is the gate scope's tab. Hovering a token
// shows its id, piece, gate statistics and the top-5 next tokens of the
// original stream, the tuned stream and the mix. Gate traces saved by
// evaluations open in the same view, the newest of an IMSM adapter on opening. Generation runs off the GUI thread, on the
// device the run trained on (the CPU when that GPU is not visible here), with
// the model kept loaded between clicks (until a generation with another run).
#pragma once
#include <QColor>
#include <QFutureWatcher>
#include <QString>
#include <QWidget>

#include <map>
#include <memory>
#include <vector>

#include "recipes/generate.h"
#include "token_html.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;
class QUrl;

namespace imsm::ui {

class SteerPanel;

struct GenerateOutcome {
  GenerateResult result;
  QString error;                        // the engine's message when it failed
  std::shared_ptr<LoadedModel> loaded;  // what it ran on, kept for the next click
};

class InspectorView : public QWidget {
  Q_OBJECT
 public:
  explicit InspectorView(QWidget* parent = nullptr);
  void set_workspace(const QString& workspace);  // refills the run and trace lists
  bool select_run(qint64 run_id);
  // A run chosen in the runs pane: an IMSM training run opens its newest saved trace (else is only selected for
  // generating); an evaluation of an IMSM adapter opens its trace. False when there is nothing with a gate to show.
  bool show_run(qint64 run_id);
  void set_prompt(const QString& prompt);
  void generate();                        // asynchronous; generated() follows
  void generate_steered();                // the same with the steer panel's clamp; generated() follows
  SteerPanel* steer() const { return steer_; }
  bool open_trace(qint64 eval_run_id, const QString& benchmark, int example_index);  // a saved evaluation trace
  void show_tokens(const QString& prompt, const std::vector<TokenTrace>& tokens);
  const std::vector<TokenTrace>& tokens() const { return tokens_; }
  QString token_details(int index) const;  // the hover text
  QCustomPlot* gate_plot() const { return gate_plot_; }
  QComboBox* runs() const { return runs_; }
  // What the last generation ran on (model, adapter, device, dtype); empty before any.
  ModelSource loaded_source() const { return loaded_ ? loaded_->source : ModelSource{}; }

 signals:
  void generated(bool ok, const QString& message);
  void tokens_shown(const QString& title);  // tokens() changed: a generation's, a saved trace's

 private:
  void make_widgets();
  void lay_out();
  void fill_examples();
  void use_example(int index);         // an example of the run's data into the prompt
  void open_selected_trace();
  void hover_token(const QUrl& url);   // "tok:N" links of the answer
  void show_generation();              // the finished task's outcome
  void render();

  QString workspace_;
  std::map<qint64, ModelSource> sources_;  // the IMSM runs offered: run id -> what to open (views/run_table.h)
  std::shared_ptr<LoadedModel> loaded_;  // owned here between generations; by the task during one
  QString device_note_;
  QString shown_title_;  // what tokens_ are, for people                  // why the run's device was not used, or ""
  std::vector<TokenTrace> tokens_;
  QComboBox *runs_, *examples_, *traces_;
  QSpinBox* trace_index_;
  QPlainTextEdit* prompt_;
  QSpinBox* max_new_;
  QPushButton* generate_;
  QLabel *status_, *legend_;
  QTextBrowser* answer_;
  QLabel* details_;
  QCustomPlot* gate_plot_;
  SteerPanel* steer_;
  bool steering_ = false;  // the running generation is steered: its answer goes to the steer panel
  void start_generation(GenerateRequest r);
  QFutureWatcher<GenerateOutcome> watcher_;
};

}  // namespace imsm::ui
