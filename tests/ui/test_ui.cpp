// Widget and worker tests of the workbench under QT_QPA_PLATFORM=offscreen,
// on real parts: a SQLite workspace written through the store, model folders
// written by the engine (and a pickled checkpoint it must refuse), the
// bundled model's tokenizer, and real training runs on a tiny model.
#include <QSignalSpy>
#include <QTableView>
#include <QListWidget>
#include <QMessageBox>
#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "export.h"
#include "export_dialog.h"
#include "forgetting_view.h"
#include "gate_scope_pane.h"
#include "arena_view.h"
#include "inspector_view.h"
#include "job_status.h"
#include "library_panes.h"
#include "main_window.h"
#include "recipes/environment.h"
#include "recipes/generate.h"
#include "recipes/train_record.h"
#include "run_worker.h"
#include "runs_model.h"
#include "runs_pane.h"
#include "steer_panel.h"
#include "store/workspace.h"
#include "tiny_model.h"
#include "tokenizer/tokenizer.h"
#include "training_view.h"
#include "views/run_table.h"

using namespace imsm;

using test::write;

namespace {
const QString kBundled = IMSM_SOURCE_DIR "/resources/models/wordnet-base";
}  // namespace

class UiTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString model_, data_;

  // As the run dialog and `imsm train` make it: JSON through the engine's parser (defaults, checks).
  TrainConfig config(int epochs, const QString& out) const {
    const nlohmann::json j = {{"model_path", model_.toStdString()}, {"data_path", data_.toStdString()}, {"peft", "lora"},
                              {"variant", "query"}, {"lora_r", 4}, {"batch_size", 2}, {"num_epochs", epochs}, {"learning_rate", 1e-3},
                              {"max_input_length", 32}, {"max_output_length", 16}, {"seed", 7}, {"output_dir", out.toStdString()}};
    return parse_train_config(j, "test");
  }

  // A training job of `epochs` on the tiny model, recorded in WORKSPACE (a file of the test's folder), into DIR/out.
  ui::Job train_job(const QString& name, const QString& workspace, int epochs, const QString& out) const {
    return {name, ui::TrainJob{dir_.filePath(workspace), config(epochs, dir_.filePath(out))}};
  }
  // The training configuration a train job runs.
  static TrainConfig& config_of(ui::Job& job) { return std::get<ui::TrainJob>(job.work).config; }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(IMSM_SCREENSHOTS));  // a fresh build has none yet
    std::tie(model_, data_) = test::make_tiny_model_and_data(QDir(dir_.path()));
  }

  // Help -> About shows what `imsm env --json` reports (LibTorch 2.x, the CUDA path).
  void aboutShowsTheEngineEnvironment() {
    const QString text = ui::about_text();
    const EngineEnvironment env = engine_environment();
    QVERIFY2(env.libtorch.rfind("2.", 0) == 0, env.libtorch.c_str());
    QVERIFY(text.contains("LibTorch</td><td>" + QString::fromStdString(env.libtorch)));
    QVERIFY(text.contains(env.cuda_compiled ? "compiled (CUDA " + QString::fromStdString(env.cuda_version) : QString("not compiled")));
    QVERIFY(text.contains(QString::number(env.threads) + " threads"));
  }

  // Runs table: rows, method labels, final loss, scores of the adapter's evaluation, filters.
  void runsModelAndPane() {
    const QString ws_path = dir_.filePath("runs.imsm");
    {
      store::Workspace ws(ws_path.toStdString());
      store::NewRun a{"train", "arith lora", model_.toStdString(), data_.toStdString(), R"({"peft": "lora", "variant": "none"})", "cpu", "", 1, 0};
      store::NewRun b{"train", "arith imsm", model_.toStdString(), data_.toStdString(), R"({"peft": "lora", "variant": "query"})", "cpu", "", 2, 0};
      const int64_t ia = ws.create_run(a), ib = ws.create_run(b);
      ws.start_run(ib);
      ws.add_train_metrics(ib, {imsm::StepRecord{.step = 1, .epoch = 0, .loss = 2.5, .learning_rate = 1e-3, .grad_norm = 1, .tokens_per_second = 100}, imsm::StepRecord{.step = 2, .epoch = 0, .loss = 1.25, .learning_rate = 5e-4, .grad_norm = 1, .tokens_per_second = 100}});
      ws.finish_run(ib, imsm::RunStatus::Finished);
      ws.start_run(ia);
      ws.finish_run(ia, imsm::RunStatus::Failed, "out of memory");
      store::NewRun e{"eval", "suite", model_.toStdString(), "", "{}", "cpu", "", 0, ib};
      const int64_t ie = ws.create_run(e);
      ws.start_run(ie);
      ws.add_evaluations(ie, data_.toStdString(), {{"arith", "gsm8k", "Accuracy", 0.375, 8, "", ""}});
      ws.finish_run(ie, imsm::RunStatus::Finished);
    }
    store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    ui::RunsModel model;
    model.set_rows(imsm::run_summaries(ws));
    QCOMPARE(model.rowCount(), 3);
    const auto* b = model.row_of(2);
    QVERIFY(b);
    QCOMPARE(QString::fromStdString(b->method), QString("IMSM(LoRA)"));
    QCOMPARE(b->final_loss, 1.25);
    QCOMPARE(b->steps, int64_t{2});
    QCOMPARE(b->scores.size(), size_t{1});
    QCOMPARE(b->scores[0].second, 0.375);
    QCOMPARE(model.data(model.index(0, ui::RunsModel::Method), Qt::DisplayRole).toString(), QString("LoRA"));
    QCOMPARE(model.data(model.index(0, ui::RunsModel::Status), Qt::ToolTipRole).toString(), QString("out of memory"));
    for (int c = 0; c < ui::RunsModel::ColumnCount; ++c)  // every column says what it holds
      QVERIFY2(model.headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().size() > 20, qPrintable(model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString()));
    QVERIFY(model.headerData(ui::RunsModel::Variant, Qt::Horizontal, Qt::ToolTipRole).toString().contains("query-aware gate"));

    ui::RunsPane pane(&model);
    QCOMPARE(pane.view()->model()->rowCount(), 3);
    QCOMPARE(QString::fromStdString(model.row_of(3)->method), QString("IMSM(LoRA) (run 2)"));  // the eval of run 2's adapter
    QCOMPARE(model.data(model.index(2, ui::RunsModel::Seed), Qt::DisplayRole).toLongLong(), 2LL);
    QVERIFY(model.data(model.index(2, ui::RunsModel::Id), Qt::DisplayRole).toLongLong() == 3);
    pane.filter()->setText("imsm(");
    QCOMPARE(pane.view()->model()->rowCount(), 2);  // the IMSM run and the evaluation of its adapter
    pane.filter()->clear();
    QSignalSpy selected(&pane, &ui::RunsPane::selection_changed);
    pane.select_ids({1, 2});
    QCOMPARE(pane.selected_ids(), (QList<qint64>{1, 2}));
    QVERIFY(!selected.isEmpty());
  }

  // Models: a pickled checkpoint is refused with the engine's message and nothing is added; a real folder is.
  void modelsPane() {
    const QString ws_path = dir_.filePath("models.imsm");
    store::Workspace(ws_path.toStdString());
    const QString pickled = dir_.filePath("pickled");
    QDir().mkpath(pickled);
    QFile::copy(model_ + "/config.json", pickled + "/config.json");
    write(pickled + "/pytorch_model.bin", "PK\x03\x04 not really a zip");
    ui::ModelsPane pane;
    pane.set_workspace(ws_path);
    QSignalSpy errors(&pane, &ui::ModelsPane::error);
    QVERIFY(!pane.add_model(pickled));
    QCOMPARE(errors.size(), 1);
    QVERIFY2(pane.error_text().contains("safetensors"), qPrintable(pane.error_text()));
    QVERIFY(store::Workspace(ws_path.toStdString(), store::Workspace::Mode::ReadOnly).models().empty());
    QVERIFY(pane.add_model(kBundled));
    QCOMPARE(pane.list()->count(), 1);
    QVERIFY(pane.error_text().isEmpty());
    QVERIFY2(pane.details_text().contains("LlamaForCausalLM"), qPrintable(pane.details_text()));
    QCOMPARE(store::Workspace(ws_path.toStdString(), store::Workspace::Mode::ReadOnly).models().at(0).architecture, std::string("LlamaForCausalLM"));
  }

  // Datasets: a malformed line is named; a good file previews its prompt/answer split and token counts.
  void datasetsPane() {
    const QString ws_path = dir_.filePath("data.imsm");
    store::Workspace(ws_path.toStdString());
    const QString bad = dir_.filePath("bad.jsonl");
    write(bad, "{\"input\": \"a\", \"output\": \"b\"}\n{\"input\": \"a\", \n");
    ui::DatasetsPane pane;
    pane.set_workspace(ws_path);
    pane.set_tokenizer(kBundled);
    QVERIFY(!pane.add_dataset(bad));
    QVERIFY2(pane.error_text().contains("bad.jsonl:2"), qPrintable(pane.error_text()));
    QCOMPARE(pane.list()->count(), 0);
    QVERIFY(pane.add_dataset(data_));
    QCOMPARE(pane.list()->count(), 1);
    QCOMPARE(pane.preview()->rowCount(), 8);
    QCOMPARE(pane.preview()->item(3, 0)->text(), QString("What is 3 plus 1?"));
    QCOMPARE(pane.preview()->item(3, 1)->text(), QString("4"));
    // Digits are single tokens in the bundled tokenizer; BOS + prompt pieces counted by hand would need the merges,
    // so the answer is the hand-checkable column: "4" is one token.
    QCOMPARE(pane.preview()->item(3, 3)->text(), QString("1"));
  }

  // The worker runs a real training to the end, reporting every step, and records it.
  void workerTrains() {
    const QString ws_path = dir_.filePath("worker.imsm");
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    const ui::Job job = train_job("tiny", "worker.imsm", 1, "out-train");
    worker.enqueue(job);
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(3).toString(), QString());
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("finished"));
    const qint64 run_id = finished.at(0).at(1).toLongLong();
    const auto snap = live.snapshot();
    QCOMPARE(snap.run_id, run_id);
    QCOMPARE(snap.points.size(), size_t{4});  // 8 examples, batch 2, 1 epoch
    QCOMPARE(snap.total_steps, int64_t{4});
    store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    QCOMPARE(QString(imsm::status_name(ws.run(run_id).status)), QString("finished"));
    const auto metrics = ws.train_metrics(run_id);
    QCOMPARE(metrics.size(), size_t{4});
    QCOMPARE(metrics.back().loss, snap.points.back().loss);
    // The IMSM gate probe arrives live and is recorded at the same steps: 8 probe rows cost 8 / (3 × 2) steps of
    // batch 2, so probe_spacing keeps only the last of the 4 steps (a probe every ceil(1.33 / 0.05) = 27 steps).
    QVERIFY(snap.points.back().gate_mean > 0 && snap.points.back().gate_mean < 1);
    QCOMPARE(metrics.back().gate_mean, snap.points.back().gate_mean);
    ui::TrainingView view;
    view.show_runs(ws_path, {run_id});
    QCOMPARE(view.gate_plot()->graphCount(), 1);
    QCOMPARE(view.gate_plot()->graph(0)->dataCount(), 1);
  }

  // The inspector generates with the trained IMSM run off the GUI thread and shows each token's gate and
  // top-5 of the three streams; a saved evaluation trace opens in the same view.
  void inspector() {
    const QString ws_path = dir_.filePath("worker.imsm");  // holds the finished IMSM run of workerTrains
    ui::InspectorView v;
    v.set_workspace(ws_path);
    QCOMPARE(v.runs()->count(), 1);
    QVERIFY(v.select_run(1));
    v.set_prompt("What is 3 plus 1?");
    QSignalSpy done(&v, &ui::InspectorView::generated);
    v.generate();
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(1).toString()));
    QVERIFY(!v.tokens().empty());
    const auto& t = v.tokens().front();
    QCOMPARE(t.top_original.size(), size_t{5});
    QCOMPARE(t.top_mixed.front().id, t.id);  // greedy
    QVERIFY(t.gate_min <= t.gate_mean && t.gate_mean <= t.gate_max);
    QCOMPARE(t.gate.size(), size_t{32});  // hidden size of the tiny model
    const QString details = v.token_details(0);
    QVERIFY2(details.contains("original") && details.contains("fine-tuned") && details.contains(QString::number(t.gate_mean, 'f', 3)),
             qPrintable(details));
    QCOMPARE(v.gate_plot()->graphCount(), 3);  // min, max, mean
    // The full gate is the gate scope's tab; without OpenGL (this offscreen platform) its heatmap shows it.
    ui::GateScopePane scope;
    scope.set_gate(ui::GateMatrix::of(v.tokens()), "answer");
    scope.show();
    QVERIFY(scope.heatmap() != nullptr);
    QCOMPARE(scope.heatmap()->plot()->plottableCount(), 1);

    // The model stays loaded on the run's device: a second click generates with the adapter folder gone
    // (a reload would fail on it), and gives the same greedy tokens.
    const QString adapter = dir_.filePath("out-train/adapter");
    QCOMPARE(QString::fromStdString(v.loaded_source().adapter_dir), adapter);
    QCOMPARE(QString::fromStdString(v.loaded_source().device.text()), QString("cpu"));  // the run trained on the CPU
    std::vector<int32_t> first;
    for (const auto& tok : v.tokens()) first.push_back(tok.id);
    QVERIFY(QDir().rename(adapter, adapter + ".away"));
    v.generate();
    QVERIFY(done.wait(60000));
    QVERIFY(QDir().rename(adapter + ".away", adapter));
    QVERIFY2(done.at(1).at(0).toBool(), qPrintable(done.at(1).at(1).toString()));
    std::vector<int32_t> second;
    for (const auto& tok : v.tokens()) second.push_back(tok.id);
    QVERIFY(first == second);

    // Steering: the gate clamped to 1 for every token answers as the base model alone, shown beside the answer as
    // generated (which the views above keep); each row has the streams' probabilities, and the steered tokens say so.
    QCOMPARE(v.steer()->original_table()->rowCount(), static_cast<int>(first.size()));
    QVERIFY(v.steer()->original_table()->item(0, 2)->text() != "—");  // p original measured
    v.steer()->set_clamp(1.0, "");
    v.generate_steered();
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(2).at(0).toBool(), qPrintable(done.at(2).at(1).toString()));
    {
      imsm::GenerateRequest alone;  // the base model alone, through the engine's generate recipe
      alone.source = {model_.toStdString(), "", DeviceSpec::cpu(), Precision::Auto};
      alone.prompt = "What is 3 plus 1?";
      alone.max_new_tokens = 48;  // the inspector's default
      const imsm::GenerateResult base = imsm::run_generate(alone, {});
      QCOMPARE(v.steer()->steered_table()->rowCount(), static_cast<int>(base.ids.size()));
      for (int r = 0; r < v.steer()->steered_table()->rowCount(); ++r)
        QVERIFY(v.steer()->steered_table()->item(r, 1)->text().endsWith("(clamped)"));
      const auto tokenizer = imsm::load_tokenizer(model_.toStdString());
      for (int r = 0; r < v.steer()->steered_table()->rowCount(); ++r)  // the same tokens, one by one
        QCOMPARE(v.steer()->steered_table()->item(r, 0)->text(), QString::fromStdString(tokenizer->piece(base.ids[static_cast<size_t>(r)])));
    }
    std::vector<int32_t> after;
    for (const auto& tok : v.tokens()) after.push_back(tok.id);
    QVERIFY(after == first);  // the main view still shows the answer as generated
    v.steer()->set_clamp(0.5, "2-x");
    v.generate_steered();
    QVERIFY(done.count() == 4 && !done.at(3).at(0).toBool());
    QVERIFY2(done.at(3).at(1).toString().contains("\"2-x\""), qPrintable(done.at(3).at(1).toString()));

    // A saved trace (as `imsm eval --workspace --full-gate` stores it).
    {
      store::Workspace ws(ws_path.toStdString());
      const int64_t e = ws.create_run({"eval", "probe", model_.toStdString(), "", "{}", "cpu", "", 0, 1});
      ws.start_run(e);
      ws.add_evaluations(e, data_.toStdString(), {{"qa", "webq", "Contain", 1.0, 1, "", ""}});
      ws.add_predictions(e, "qa", {{0, "Q?", {"a"}, "ab", {{10, "a", 0.25f, {0.0f, 0.5f}}, {11, "b", 0.75f, {0.5f, 1.0f}}}}});
      ws.finish_run(e, imsm::RunStatus::Finished);
    }
    v.set_workspace(ws_path);
    QVERIFY(v.open_trace(2, "qa", 0));
    QCOMPARE(v.tokens().size(), size_t{2});
    QCOMPARE(v.tokens()[1].gate_min, 0.5f);
    QCOMPARE(v.tokens()[1].gate_max, 1.0f);
    QCOMPARE(v.tokens()[0].gate_mean, 0.25f);
    v.resize(1100, 750);
    QVERIFY(v.grab().save(IMSM_SCREENSHOTS "/inspector-unit.png"));
    // Colours follow the engine's gate: g weighs the original memory, shown blue as in the report.
    QVERIFY(ui::gate_colour(1).blue() > ui::gate_colour(1).red());
    QVERIFY(ui::gate_colour(0).red() > ui::gate_colour(0).blue());
  }

  // Cancel takes effect within a step; the run is recorded as cancelled with a checkpoint; queued jobs run one after another.
  // The chat arena answers one message three times (base, adapter alone, IMSM), streamed: each answer is the
  // engine's generate with the gate clamped to 1, to 0, or free (the tiny model has no chat template: a bare prompt);
  // the IMSM tokens carry their gate and top-5; "Continue with" takes an answer into the conversation; Stop ends a turn.
  void arena() {
    const QString ws_path = dir_.filePath("worker.imsm");  // holds the finished IMSM run of workerTrains
    ui::ArenaView v;
    v.set_workspace(ws_path);
    QCOMPARE(v.runs()->count(), 1);
    QVERIFY(v.select_run(1));
    v.set_settings(true, 0.7, 0.9, 12);
    v.set_message("What is 3 plus 1?");
    QSignalSpy done(&v, &ui::ArenaView::answered);
    v.send();
    QVERIFY(done.wait(60000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(1).toString()));
    QCOMPARE(v.turn().answers.size(), size_t{3});
    const QString adapter = dir_.filePath("out-train/adapter");
    for (const ArenaAnswer& a : v.turn().answers) {
      imsm::GenerateRequest g;  // the same side through the generate recipe
      g.source = {model_.toStdString(), adapter.toStdString(), DeviceSpec::cpu(), Precision::Auto};
      g.prompt = "What is 3 plus 1?";
      g.max_new_tokens = 12;
      g.clamp = a.side != ArenaSide::Imsm;
      g.clamp_value = a.side == ArenaSide::Base ? 1.0 : 0.0;
      QVERIFY(imsm::run_generate(g, {}).ids == a.result.ids);
      if (a.side != ArenaSide::Imsm) QCOMPARE(v.answer_text(a.side), QString::fromStdString(a.result.text));
    }
    const auto& imsm_answer = v.turn().answers[2].result;
    QVERIFY(!imsm_answer.trace.empty());
    QCOMPARE(imsm_answer.trace.front().top_original.size(), size_t{5});
    QVERIFY2(v.token_details(0).contains("fine-tuned") && v.token_details(0).contains("mix"), qPrintable(v.token_details(0)));
    QCOMPARE(imsm_answer.trace.size(), imsm_answer.ids.size());
    QVERIFY(!v.answer_text(ArenaSide::Imsm).isEmpty());  // the gate-coloured tokens
    v.resize(1200, 800);
    QVERIFY(v.grab().save(IMSM_SCREENSHOTS "/arena-unit.png"));
    const QString md = dir_.filePath("arena.md");
    QString error;
    QVERIFY2(v.export_markdown(md, &error), qPrintable(error));
    QFile f(md);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY2(text.contains("**user**: What is 3 plus 1?") && text.contains("### IMSM"), qPrintable(text));
    // Continue with the base model's answer: it becomes the assistant's turn of the conversation.
    v.continue_with(ArenaSide::Base);
    QCOMPARE(v.conversation().size(), size_t{2});
    QCOMPARE(QString::fromStdString(v.conversation()[1].content), QString::fromStdString(v.turn().answers[0].result.text));
    // Saved in the workspace with the run: another view reopens it where it stopped, with its settings.
    QVERIFY(v.conversation_id() > 0);
    QCOMPARE(v.conversations()->count(), 1);
    {
      ui::ArenaView reopened;
      reopened.set_workspace(ws_path);
      QVERIFY(reopened.select_run(1));
      QCOMPARE(reopened.conversations()->count(), 1);
      QVERIFY(reopened.open_conversation(v.conversation_id()));
      QCOMPARE(reopened.conversation().size(), size_t{2});
      QCOMPARE(reopened.conversation()[1].content, v.conversation()[1].content);
      QCOMPARE(reopened.answer_text(ArenaSide::Base), v.answer_text(ArenaSide::Base));
      QVERIFY2(reopened.markdown().contains("### The base model (the original memory) (the conversation went on with this one)"),
               qPrintable(reopened.markdown()));
      QVERIFY(reopened.markdown().contains("at most 12 new tokens"));
    }
    // A long turn stopped at once ends with the engine's cancel message, and the view takes the next message.
    v.set_settings(true, 0.7, 0.9, 4000);
    v.set_message("And 4 plus 1?");
    v.send();
    v.stop();
    QVERIFY(done.wait(60000));
    QVERIFY(!done.at(1).at(0).toBool());
    QVERIFY2(done.at(1).at(1).toString().contains("cancel", Qt::CaseInsensitive), qPrintable(done.at(1).at(1).toString()));
    store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    QCOMPARE(ws.conversations(1).size(), size_t{1});  // the stopped turn is not saved: one conversation, one turn
    QVERIFY(!QString::fromStdString(ws.conversations(1).front().turns_json).contains("And 4 plus 1?"));
  }

  void workerCancelsAndQueues() {
    const QString ws_path = dir_.filePath("cancel.imsm");
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    const ui::Job long_job = train_job("long", "cancel.imsm", 500, "out-long");
    ui::Job short_job = long_job;
    short_job.name = "short";
    config_of(short_job) = config(1, dir_.filePath("out-short"));
    worker.enqueue(long_job);
    worker.enqueue(short_job);
    QCOMPARE(worker.pending() + (worker.busy() ? 1 : 0) >= 1, true);
    QTRY_VERIFY_WITH_TIMEOUT(live.snapshot().step >= 3, 60000);
    const int64_t at_cancel = live.snapshot().step;
    worker.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 60000);
    QCOMPARE(finished.at(0).at(0).toString(), QString("long"));
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("cancelled"));
    QCOMPARE(finished.at(1).at(0).toString(), QString("short"));
    QCOMPARE(imsm::test::job_status(finished.at(1)), QString("finished"));
    store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    const qint64 long_id = finished.at(0).at(1).toLongLong();
    const auto run = ws.run(long_id);
    QCOMPARE(QString(imsm::status_name(run.status)), QString("cancelled"));
    QVERIFY(!run.last_checkpoint.empty());
    // The step in flight when Cancel was pressed finishes (and at most one more had started before the flag was read).
    QVERIFY2(ws.train_metrics(long_id).back().step <= at_cancel + 2, qPrintable(QString::number(ws.train_metrics(long_id).back().step)));
    QVERIFY(ws.train_metrics(long_id).back().step < 2000);
  }

  // An engine error ends the job as failed with the engine's message, and the worker goes on.
  void workerReportsErrors() {
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    ui::Job job = train_job("broken", "errors.imsm", 1, "out-broken");
    config_of(job).data_path = dir_.filePath("missing.jsonl").toStdString();
    worker.enqueue(job);
    QVERIFY(finished.wait(60000));
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("failed"));
    QVERIFY2(finished.at(0).at(3).toString().contains("missing.jsonl"), qPrintable(finished.at(0).at(3).toString()));
    QVERIFY(!worker.busy());
  }

  // The runs pane's "Export the model": the worker merges a finished LoRA run's adapter into its base and
  // writes a Hugging Face folder (its numerics against transformers: tests/reference/check_export.py); a
  // folder that is not empty is refused, and the job says why.
  void workerExportsARunsModel() {
    const QString ws_path = dir_.filePath("export.imsm");
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    ui::Job train = train_job("lora", "export.imsm", 1, "out-export");
    config_of(train).variant = imsm::GateVariant::None;
    worker.enqueue(train);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("finished"));
    const store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    auto request = imsm::export_request_of(ws.run(finished.at(0).at(1).toLongLong()));
    QVERIFY(request.has_value());
    const QDir out(dir_.filePath("merged"));
    request->out_dir = out.path().toStdString();
    const ui::Job job{"export", ui::ExportJob{*request}};
    worker.enqueue(job);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 60000);  // not finished.wait(): a quick job may end before the wait starts
    QVERIFY2(imsm::test::job_status(finished.at(1)) == "finished", qPrintable(finished.at(1).at(3).toString()));
    QVERIFY2(finished.at(1).at(3).toString().contains("LoRA merged into"), qPrintable(finished.at(1).at(3).toString()));
    for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "imsm_export.json"}) QVERIFY2(out.exists(f), f);
    QFile merged(out.filePath("model.safetensors")), base(QDir(model_).filePath("model.safetensors"));
    QVERIFY(merged.open(QIODevice::ReadOnly) && base.open(QIODevice::ReadOnly));
    QCOMPARE(merged.size(), base.size());  // the same tensors in the same dtype...
    QVERIFY(merged.readAll() != base.readAll());  // ...with the adapter folded in
    worker.enqueue(job);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 60000);  // the refusal comes before anything loads
    QCOMPARE(imsm::test::job_status(finished.at(2)), QString("failed"));
    QVERIFY2(finished.at(2).at(3).toString().contains("not empty"), qPrintable(finished.at(2).at(3).toString()));

    // The Export dialog: GGUF in q4_k_m, calibrated on the run's training data by default; the worker writes the
    // file, its importance matrix and an Ollama Modelfile (llama.cpp reading them: tests/cli/test_export_gguf_cli.cpp).
    ui::ExportDialog dialog(*request, imsm::summarize_adapter(request->adapter_dir), data_);
    dialog.out()->setText(dir_.filePath("gguf"));
    dialog.format()->setCurrentIndex(dialog.format()->findData("gguf"));
    dialog.quant()->setCurrentText("q4_k_m");
    QVERIFY2(dialog.valid() && dialog.plan_text().contains("gguf.q4_k_m.gguf and an Ollama Modelfile, quantized with an importance matrix"),
             qPrintable(dialog.plan_text()));
    QCOMPARE(QString::fromStdString(dialog.request().calibration), data_);
    dialog.adapter_only()->setChecked(true);  // a GGUF LoRA has no q4_k_m
    QVERIFY2(!dialog.valid() && dialog.plan_text().contains("f32, f16 or bf16"), qPrintable(dialog.plan_text()));
    dialog.adapter_only()->setChecked(false);
    dialog.show();
    QVERIFY(dialog.grab().save(IMSM_SCREENSHOTS "/export-dialog.png"));
    worker.enqueue({"export gguf", ui::ExportJob{dialog.request()}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 4, 60000);
    QVERIFY2(imsm::test::job_status(finished.at(3)) == "finished", qPrintable(finished.at(3).at(3).toString()));
    for (const char* f : {"gguf.q4_k_m.gguf", "imatrix.gguf", "Modelfile"}) QVERIFY2(QDir(dir_.filePath("gguf")).exists(f), f);
    // An IMSM run goes to GGUF only without its gate, and the dialog says why until that is ticked.
    ui::ExportDialog imsm_dialog(*request, {"IMSM(LoRA)", true, true}, data_);
    imsm_dialog.format()->setCurrentIndex(imsm_dialog.format()->findData("gguf"));
    QVERIFY2(!imsm_dialog.valid() && imsm_dialog.plan_text().contains("Without the gate"), qPrintable(imsm_dialog.plan_text()));
    imsm_dialog.drop_gate()->setChecked(true);
    QVERIFY(imsm_dialog.valid() && imsm_dialog.request().drop_gate);
  }

  // "Add GGUF…": the worker imports the SmolLM2 wheel's Q4_1 file (its numerics against transformers:
  // tests/reference/check_gguf_import.py) into models/NAME beside the workspace, the pane adds it; a
  // cancelled import leaves nothing behind; a file that is not GGUF fails naming it.
  void workerImportsAGguf() {
    if (!ui::gguf_import_available()) QSKIP("built without llama.cpp's ggml (installer/setup-llama-cpp.sh)");
    const QString gguf = QStringLiteral(IMSM_SOURCE_DIR "/.models/SmolLM2-135M-Instruct.Q4_1.gguf");
    QVERIFY2(QFileInfo::exists(gguf), "run installer/setup-models.sh");
    const QString ws_path = dir_.filePath("gguf.imsm");
    store::Workspace(ws_path.toStdString());
    ui::ModelsPane pane;
    pane.set_workspace(ws_path);
    const QString out = pane.import_folder_for(gguf);
    QCOMPARE(out, dir_.filePath("models/SmolLM2-135M-Instruct.Q4_1"));
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QObject::connect(&worker, &ui::RunWorker::model_imported, &pane, &ui::ModelsPane::add_model);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    ImportGgufRequest request;
    request.gguf_path = gguf.toStdString();
    request.out_dir = out.toStdString();
    worker.enqueue({"import", ui::ImportGgufJob{request}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 120000);
    QVERIFY2(imsm::test::job_status(finished.at(0)) == "finished", qPrintable(finished.at(0).at(3).toString()));
    QVERIFY2(finished.at(0).at(3).toString().contains("134515008 parameters"), qPrintable(finished.at(0).at(3).toString()));
    QTRY_COMPARE(pane.list()->count(), 1);
    QVERIFY2(pane.details_text().contains("LlamaForCausalLM"), qPrintable(pane.details_text()));
    QCOMPARE(store::Workspace(ws_path.toStdString(), store::Workspace::Mode::ReadOnly).models().at(0).path, out.toStdString());

    // Cancelled before it starts writing: the next folder is never made.
    request.out_dir = pane.import_folder_for(gguf).toStdString();
    QVERIFY(QString::fromStdString(request.out_dir).endsWith("-2"));
    QObject::connect(&worker, &ui::RunWorker::job_started, &worker, [&] { worker.cancel(); }, Qt::DirectConnection);
    worker.enqueue({"import", ui::ImportGgufJob{request}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 120000);
    QCOMPARE(imsm::test::job_status(finished.at(1)), QString("cancelled"));
    QVERIFY(!QFileInfo::exists(QString::fromStdString(request.out_dir)));
    QVERIFY(!QFileInfo::exists(QString::fromStdString(request.out_dir) + ".tmp"));
    QCOMPARE(pane.list()->count(), 1);
  }

  // A run on 2 processes: the worker starts imsm under the venv's torchrun; rank 0's steps reach the live view
  // once each; Cancel stops every rank and rank 0 records it; Resume finds the processes in the checkpoint.
  void workerRunsOnTwoProcesses() {
    QCOMPARE(ui::multi_process_problem(2), QString());  // the venv's torchrun and build/bin/imsm are there
    const QString ws_path = dir_.filePath("processes.imsm");
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    ui::Job job = train_job("two", "processes.imsm", 50, "out-two");  // 8 examples, global batch 2: 200 steps
    std::get<ui::TrainJob>(job.work).processes = 2;
    worker.enqueue(job);
    QTRY_VERIFY_WITH_TIMEOUT(live.snapshot().step >= 3, 60000);
    worker.cancel();
    QVERIFY(finished.wait(60000));
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("cancelled"));
    const qint64 run_id = finished.at(0).at(1).toLongLong();
    const auto snap = live.snapshot();
    QCOMPARE(snap.run_id, run_id);
    QCOMPARE(snap.total_steps, int64_t{200});
    for (size_t i = 0; i < snap.points.size(); ++i) QCOMPARE(snap.points[i].step, static_cast<int64_t>(i + 1));
    QCOMPARE(imsm::processes_to_resume(ws_path.toStdString(), run_id), 2);
    worker.enqueue({"two, resumed", ui::ResumeJob{ws_path, run_id}});
    QVERIFY(finished.wait(120000));
    QVERIFY2(imsm::test::job_status(finished.at(1)) == "finished", qPrintable(finished.at(1).at(3).toString()));
    QCOMPARE(live.snapshot().points.back().step, int64_t{200});
    store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    QCOMPARE(QString(imsm::status_name(ws.run(run_id).status)), QString("finished"));
    // A bad configuration fails in the processes; the job says why.
    ui::Job broken = job;
    config_of(broken).data_path = dir_.filePath("missing.jsonl").toStdString();
    worker.enqueue(broken);
    QVERIFY(finished.wait(60000));
    QCOMPARE(imsm::test::job_status(finished.at(2)), QString("failed"));
    QVERIFY2(finished.at(2).at(3).toString().contains("missing.jsonl"), qPrintable(finished.at(2).at(3).toString()));
  }

  // The window: opening a workspace fills the runs table and plots the latest runs; selecting runs plots those.
  void mainWindowShowsRuns() {
    ui::MainWindow w;
    QVERIFY(w.open_workspace(dir_.filePath("cancel.imsm")));
    QTableView* view = w.runs_pane()->view();
    QCOMPARE(view->model()->rowCount(), 2);
    QCOMPARE(w.training_view()->curve_count(), 2);  // nothing selected yet: the latest runs, and it says so
    QVERIFY2(w.training_view()->caption().contains("latest"), qPrintable(w.training_view()->caption()));
    w.runs_pane()->select_ids({1, 2});
    QCOMPARE(w.training_view()->curve_count(), 2);
    QCOMPARE(w.training_view()->hint(), QString());
    QVERIFY(w.training_view()->loss_plot()->legend->visible());
    // Keyboard shortcuts: none is bound twice, and Ctrl+2 / Ctrl+3 switch the views.
    QMap<QString, QString> bound;
    for (QAction* a : w.findChildren<QAction*>())
      for (const QKeySequence& k : a->shortcuts()) {
        QVERIFY2(!bound.contains(k.toString()), qPrintable(k.toString() + ": " + bound.value(k.toString()) + " and " + a->text()));
        bound[k.toString()] = a->text();
      }
    QVERIFY(bound.size() >= 10);
    int switched = 0;
    for (int i : {1, 2, 0})
      for (QAction* a : w.findChildren<QAction*>())
        if (a->shortcut() == QKeySequence(Qt::CTRL | (Qt::Key_1 + i))) {
          a->trigger();
          QCOMPARE(w.views()->currentIndex(), i);
          ++switched;
        }
    QCOMPARE(switched, 3);
    // A file that is not a workspace is refused and the open one stays.
    const QString text = dir_.filePath("notes.imsm");
    write(text, "just some notes\n");
    QTimer::singleShot(200, [] {
      for (QWidget* top : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(top)) box->accept();
    });
    QVERIFY(!w.open_workspace(text));
    QVERIFY(w.workspace().endsWith("cancel.imsm"));
  }

  // The desktop switches to a dark palette while the window is open: the plots follow (background from the
  // palette's Base, axes and labels from its Text), and switch back.
  void followsDarkPalette() {
    ui::MainWindow w;
    QVERIFY(w.open_workspace(dir_.filePath("cancel.imsm")));
    w.runs_pane()->select_ids({1, 2});
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto pixel = [](QCustomPlot* plot) {
      plot->replot();
      return plot->toPixmap(200, 100).toImage().pixelColor(3, 3);
    };
    const QPalette light = QApplication::palette();
    QVERIFY(pixel(w.training_view()->loss_plot()).lightness() > 200);
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(45, 45, 48));
    dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
    dark.setColor(QPalette::Base, QColor(30, 30, 30));
    dark.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
    dark.setColor(QPalette::Text, QColor(230, 230, 230));
    dark.setColor(QPalette::Button, QColor(55, 55, 58));
    dark.setColor(QPalette::ButtonText, QColor(230, 230, 230));
    dark.setColor(QPalette::Highlight, QColor(42, 130, 218));
    QApplication::setPalette(dark);
    QApplication::processEvents();
    for (QCustomPlot* plot : {w.training_view()->loss_plot(), w.training_view()->gate_plot(), w.forgetting_view()->plot()}) {
      QCOMPARE(pixel(plot), QColor(30, 30, 30));
      QCOMPARE(plot->xAxis->labelColor(), QColor(230, 230, 230));
      QCOMPARE(plot->yAxis->tickLabelColor(), QColor(230, 230, 230));
    }
    QVERIFY(w.grab().save(IMSM_SCREENSHOTS "/main-dark.png"));
    QApplication::setPalette(light);
    QApplication::processEvents();
    QCOMPARE(pixel(w.training_view()->loss_plot()), light.color(QPalette::Base));
  }
};

QTEST_MAIN(UiTest)
#include "test_ui.moc"
