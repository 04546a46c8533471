#include "inspector_view.h"

#include <QComboBox>
#include <QCursor>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBrowser>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <algorithm>
#include <exception>

#include <nlohmann/json.hpp>
#include <qcustomplot.h>

#include "export.h"
#include "plot_style.h"
#include "runs_model.h"
#include "steer_panel.h"
#include "store/workspace.h"
#include "train/dataset.h"
#include "views/run_table.h"

namespace imsm::ui {

InspectorView::InspectorView(QWidget* parent) : QWidget(parent) {
  make_widgets();
  lay_out();
  connect(generate_, &QPushButton::clicked, this, &InspectorView::generate);
  connect(steer_, &SteerPanel::steer_requested, this, &InspectorView::generate_steered);
  connect(runs_, &QComboBox::currentIndexChanged, this, &InspectorView::fill_examples);
  connect(examples_, &QComboBox::activated, this, &InspectorView::use_example);
  connect(traces_, &QComboBox::activated, this, &InspectorView::open_selected_trace);
  connect(trace_index_, &QSpinBox::valueChanged, this, &InspectorView::open_selected_trace);
  connect(answer_, &QTextBrowser::highlighted, this, &InspectorView::hover_token);
  connect(&watcher_, &QFutureWatcher<GenerateOutcome>::finished, this, &InspectorView::show_generation);
}

void InspectorView::make_widgets() {
  runs_ = new QComboBox(this);
  runs_->setToolTip(tr("A finished training run with an IMSM adapter (variant query, no-query or no-gate)"));
  examples_ = new QComboBox(this);
  examples_->setToolTip(tr("Fill the prompt with an example of the run's training data"));
  traces_ = new QComboBox(this);
  traces_->setToolTip(tr("Open a gate trace saved by an evaluation (imsm eval --workspace)"));
  trace_index_ = new QSpinBox(this);
  trace_index_->setRange(0, 0);
  trace_index_->setPrefix(tr("example "));
  prompt_ = new QPlainTextEdit(this);
  prompt_->setPlaceholderText(tr("Type a prompt, or pick an example"));
  prompt_->setMaximumHeight(90);
  max_new_ = new QSpinBox(this);
  max_new_->setRange(1, 2048);
  max_new_->setValue(48);
  max_new_->setPrefix(tr("max new tokens "));
  generate_ = new QPushButton(tr("Generate with IMSM"), this);
  generate_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  generate_->setToolTip(tr("Generate greedily with the run's adapter and gate (Ctrl+Enter)"));
  status_ = new QLabel(this);
  answer_ = new QTextBrowser(this);
  answer_->setOpenLinks(false);
  answer_->setToolTip({});
  details_ = new QLabel(tr("Hover a token: its gate and the top-5 next tokens of each stream"), this);
  details_->setWordWrap(true);
  details_->setTextFormat(Qt::RichText);
  details_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  details_->setMinimumWidth(280);
  legend_ = new QLabel(this);
  legend_->setTextFormat(Qt::RichText);
  legend_->setText(QString("<span style='background:%1'>&nbsp;original memory (gate 1)&nbsp;</span> ↔ "
                          "<span style='background:%2'>&nbsp;fine-tuned memory (gate 0)&nbsp;</span>")
                      .arg(gate_colour(1).name(), gate_colour(0).name()));
  legend_->setToolTip(tr("IMSM mixes the original model's last hidden state h_M and the fine-tuned one h_M' per dimension: "
                        "h = g·h_M + (1−g)·h_M'. A token's colour is its mean gate g."));

  gate_plot_ = new QCustomPlot(this);
  style_plot(gate_plot_);
  add_plot_menu(gate_plot_);
  gate_plot_->xAxis->setLabel(tr("generated token"));
  gate_plot_->yAxis->setLabel(tr("gate"));
  gate_plot_->setToolTip(tr("Mean gate per generated token (dots) and its min–max over the hidden dimensions (band): 1 = original memory, 0 = fine-tuned"));
  steer_ = new SteerPanel(this);
}

void InspectorView::lay_out() {
  auto* form = new QFormLayout;
  form->addRow(tr("Run"), runs_);
  form->addRow(tr("Example"), examples_);
  auto* trace_row = new QHBoxLayout;
  trace_row->addWidget(traces_, 1);
  trace_row->addWidget(trace_index_);
  form->addRow(tr("Saved trace"), trace_row);
  form->addRow(tr("Prompt"), prompt_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(max_new_);
  buttons->addWidget(generate_);
  buttons->addWidget(status_, 1);
  buttons->addWidget(legend_);
  form->addRow(buttons);
  auto* text_row = new QSplitter(Qt::Horizontal, this);
  text_row->addWidget(answer_);
  text_row->addWidget(details_);
  text_row->setStretchFactor(0, 3);
  text_row->setStretchFactor(1, 2);
  auto* below = new QTabWidget(this);
  below->addTab(gate_plot_, tr("Gate per token"));
  below->addTab(steer_, tr("Steer and compare"));
  below->setTabToolTip(2, tr("Clamp the gate and regenerate; per token the two memories' probabilities, entropies and KL"));
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(text_row);
  split->addWidget(below);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(form);
  layout->addWidget(split, 1);
}

void InspectorView::use_example(int index) {
  if (index > 0) prompt_->setPlainText(examples_->itemData(index).toString());
}

void InspectorView::open_selected_trace() {
  const QVariantList v = traces_->currentData().toList();
  if (v.size() >= 2) open_trace(v[0].toLongLong(), v[1].toString(), trace_index_->value());
}

void InspectorView::hover_token(const QUrl& url) {
  if (url.scheme() != "tok") return;
  const QString text = token_details(url.path().toInt());
  details_->setText(text);
  QToolTip::showText(QCursor::pos(), text, answer_);
}

void InspectorView::show_generation() {
  GenerateOutcome out = watcher_.result();
  generate_->setEnabled(true);
  steer_->steer_button()->setEnabled(true);
  loaded_ = std::move(out.loaded);
  if (!out.error.isEmpty()) {
    status_->setText(out.error);
    emit generated(false, out.error);
    return;
  }
  const QString where = device_note_.isEmpty() ? QString::fromStdString(loaded_->source.device.text()) : device_note_;
  status_->setText(tr("%1 tokens · %2 tokens/s · %3").arg(out.result.ids.size()).arg(out.result.tokens_per_second, 0, 'f', 1).arg(where));
  if (steering_) {  // beside the answer as generated, which stays in the views above
    steer_->show_steered(out.result.trace);
    emit generated(true, {});
    return;
  }
  steer_->show_original(out.result.trace);
  shown_title_ = tr("generation with run %1").arg(runs_->currentData().toList().value(0).toLongLong());
  show_tokens(prompt_->toPlainText(), out.result.trace);
  emit generated(true, {});
}

// The saved traces: evaluations of IMSM adapters first (newest first: they have a gate to show), then the rest, marked.
void InspectorView::set_workspace(const QString& workspace) {
  workspace_ = workspace;
  loaded_.reset();  // the next generation loads what the new workspace's run names
  sources_.clear();
  runs_->clear();
  traces_->clear();
  if (workspace.isEmpty()) return;
  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto runs = ws.runs();
    for (const ImsmRun& r : imsm_runs(runs)) {
      sources_[r.run.id] = r.source;
      runs_->addItem(run_title(r.run), QVariantList{QVariant::fromValue<qlonglong>(r.run.id), QString::fromStdString(r.run.dataset_path)});
    }
    int gated = 0;  // where the traces without a gate begin
    for (auto r = runs.rbegin(); r != runs.rend(); ++r) {
      if (r->kind != "eval" || r->status != RunStatus::Finished) continue;
      const bool has_gate = sources_.count(r->parent_run_id) > 0;
      const QString subject = r->parent_run_id ? tr("run %1").arg(r->parent_run_id) : tr("base model");
      for (const auto& e : ws.evaluations(r->id)) {
        const QString label = QString("%1 · %2 · %3%4").arg(r->id).arg(QString::fromStdString(e.benchmark), subject, has_gate ? QString() : tr(" (no gate)"));
        if (traces_->findText(label) >= 0) continue;
        const QVariantList data{QVariant::fromValue<qlonglong>(r->id), QString::fromStdString(e.benchmark), QVariant::fromValue<qlonglong>(r->parent_run_id)};
        if (has_gate) traces_->insertItem(gated++, label, data);
        else traces_->addItem(label, data);
      }
    }
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
  fill_examples();
  if (traces_->count() > 0 && sources_.count(traces_->itemData(0).toList().value(2).toLongLong())) {
    select_run(traces_->itemData(0).toList().value(2).toLongLong());
    traces_->setCurrentIndex(0);  // inserting before the current item moved it, not the current index's meaning
    open_selected_trace();        // the newest IMSM evaluation: something to look at
  }
}

bool InspectorView::show_run(qint64 run_id) {
  for (int i = 0; i < traces_->count(); ++i) {
    const QVariantList v = traces_->itemData(i).toList();
    if (v.value(0).toLongLong() != run_id && v.value(2).toLongLong() != run_id) continue;
    if (!sources_.count(v.value(2).toLongLong())) return false;  // no gate to show
    select_run(v.value(2).toLongLong());
    traces_->setCurrentIndex(i);
    open_selected_trace();
    return true;
  }
  return select_run(run_id);
}

bool InspectorView::select_run(qint64 run_id) {
  for (int i = 0; i < runs_->count(); ++i)
    if (runs_->itemData(i).toList().value(0).toLongLong() == run_id) {
      runs_->setCurrentIndex(i);
      return true;
    }
  return false;
}

void InspectorView::set_prompt(const QString& prompt) { prompt_->setPlainText(prompt); }

void InspectorView::fill_examples() {
  examples_->clear();
  examples_->addItem(tr("(type a prompt)"));
  const QVariantList v = runs_->currentData().toList();
  if (v.size() < 2) return;
  try {
    const auto examples = read_examples(v[1].toString().toStdString());
    for (size_t i = 0; i < examples.size() && i < 50; ++i) {
      const QString p = QString::fromStdString(examples[i].prompt);
      examples_->addItem(p.simplified().right(70), p);
    }
  } catch (const std::exception&) {
    // The run's data file moved away: typed prompts still work.
  }
}

void InspectorView::generate() {
  steering_ = false;
  start_generation({});
}

void InspectorView::generate_steered() {
  QString error;
  const auto tokens = steer_->clamp_tokens(&error);
  if (!tokens) {
    status_->setText(error);
    emit generated(false, error);
    return;
  }
  GenerateRequest r;
  r.clamp = true;
  r.clamp_value = steer_->clamp_value();
  r.clamp_tokens = *tokens;
  steering_ = true;
  start_generation(r);
}

void InspectorView::start_generation(GenerateRequest r) {
  const auto source = sources_.find(runs_->currentData().toList().value(0).toLongLong());
  if (source == sources_.end()) {
    status_->setText(tr("No IMSM run to generate with: train one (Run → New run…) with variant query"));
    emit generated(false, status_->text());
    return;
  }
  if (watcher_.isRunning()) return;  // one generation at a time (the buttons are disabled meanwhile)
  std::string note;
  r.source = runnable_here(source->second, &note);
  device_note_ = QString::fromStdString(note);
  r.prompt = prompt_->toPlainText().toStdString();
  r.max_new_tokens = max_new_->value();
  r.trace_top_k = 5;
  generate_->setEnabled(false);
  steer_->steer_button()->setEnabled(false);
  // The loaded model travels with the task and comes back with its outcome (kept when the source is the same).
  std::shared_ptr<LoadedModel> loaded = loaded_ && loaded_->source == r.source ? loaded_ : nullptr;
  loaded_.reset();  // another run's model is freed before this one loads
  status_->setText(loaded ? tr("Generating…") : tr("Loading %1 on %2…").arg(QFileInfo(QString::fromStdString(r.source.model_dir)).fileName(), QString::fromStdString(r.source.device.text())));
  watcher_.setFuture(QtConcurrent::run([r, loaded]() mutable {
    GenerateOutcome out;
    try {
      if (!loaded) loaded = load_model(r.source);
      out.loaded = loaded;
      out.result = run_generate(*loaded, r, {});
    } catch (const std::exception& e) {
      out.error = QString::fromUtf8(e.what());
    }
    return out;
  }));
}

bool InspectorView::open_trace(qint64 eval_run_id, const QString& benchmark, int example_index) {
  try {
    const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto predictions = ws.predictions(eval_run_id, benchmark.toStdString(), true);
    trace_index_->blockSignals(true);
    trace_index_->setRange(0, std::max(0, static_cast<int>(predictions.size()) - 1));
    trace_index_->blockSignals(false);
    if (example_index < 0 || example_index >= static_cast<int>(predictions.size())) return false;
    const auto& p = predictions[static_cast<size_t>(example_index)];
    const std::vector<TokenTrace> tokens = traces_of(p);
    prompt_->setPlainText(QString::fromStdString(p.input));
    status_->setText(tr("Saved trace: evaluation run %1, %2, example %3").arg(eval_run_id).arg(benchmark).arg(example_index));
    shown_title_ = tr("evaluation run %1, %2, example %3").arg(eval_run_id).arg(benchmark).arg(example_index);
    show_tokens(QString::fromStdString(p.input), tokens);
    return true;
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
    return false;
  }
}

void InspectorView::show_tokens(const QString& prompt, const std::vector<TokenTrace>& tokens) {
  tokens_ = tokens;
  answer_->setHtml("<div style='font-family: monospace; font-size: 11pt; white-space: pre-wrap;'><span style='color:gray'>" +
                   prompt.toHtmlEscaped() + "</span>" + gate_tokens_html(tokens_) + "</div>");
  render();
  emit tokens_shown(shown_title_);
}

QString InspectorView::token_details(int index) const {
  if (index < 0 || index >= static_cast<int>(tokens_.size())) return {};
  return token_details_html(tokens_[static_cast<size_t>(index)], index);
}

void InspectorView::render() {
  gate_plot_->clearGraphs();
  gate_plot_->clearPlottables();
  const int n = static_cast<int>(tokens_.size());
  QVector<double> x, mean, lo, hi;
  for (int i = 0; i < n; ++i) {
    const auto& t = tokens_[static_cast<size_t>(i)];
    if (t.gate_mean < 0) continue;
    x << i;
    mean << t.gate_mean;
    lo << t.gate_min;
    hi << t.gate_max;
  }
  QCPGraph* g_lo = gate_plot_->addGraph();
  QCPGraph* g_hi = gate_plot_->addGraph();
  QCPGraph* g_mean = gate_plot_->addGraph();
  g_lo->setData(x, lo, true);
  g_hi->setData(x, hi, true);
  g_mean->setData(x, mean, true);
  const QColor band = series_colour(0);
  g_lo->setPen(QPen(band.lighter(150)));
  g_hi->setPen(QPen(band.lighter(150)));
  g_hi->setBrush(QColor(band.red(), band.green(), band.blue(), 40));
  g_hi->setChannelFillGraph(g_lo);
  g_mean->setPen(QPen(series_colour(1), 2));
  g_mean->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
  g_mean->setName(tr("mean gate"));
  gate_plot_->xAxis->setRange(-0.5, std::max(1, n) - 0.5);
  gate_plot_->yAxis->setRange(0, 1);
  gate_plot_->replot();

}

}  // namespace imsm::ui
