// Evaluating from the window (issue 16 items 1 and 5), offscreen on real
// parts: two runs trained on the tiny model into a real workspace, the
// Evaluate dialog's plan, the worker's evaluation job on a suite and on a
// dataset (recorded, linked to the runs, reused when run again), and a window
// that opens on what the workspace holds: the forgetting view, the latest
// training curves, the newest IMSM trace in the memory-mixing view; a sweep
// trained, evaluated and charted.
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>
#include <qcustomplot.h>

#include "config/sweep_grid.h"
#include "evaluate_dialog.h"
#include "forgetting_view.h"
#include "gate_scope_pane.h"
#include "inspector_view.h"
#include "job_status.h"
#include "main_window.h"
#include "recipes/evaluate_runs.h"
#include "recipes/train_record.h"
#include "run_worker.h"
#include "runs_model.h"
#include "runs_pane.h"
#include "store/workspace.h"
#include "sweep_chart.h"
#include "tiny_model.h"
#include "training_view.h"
#include "util/error.h"

using namespace imsm;

class EvaluateTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString model_, data_, ws_, suite_;
  qint64 imsm_run_ = 0, lora_run_ = 0;

  qint64 train(const std::string& variant, const QString& out) {
    const nlohmann::json j = {{"model_path", model_.toStdString()}, {"data_path", data_.toStdString()}, {"peft", "lora"},
                              {"variant", variant}, {"lora_r", 4}, {"batch_size", 4}, {"num_epochs", 1}, {"learning_rate", 1e-3},
                              {"max_input_length", 32}, {"max_output_length", 6}, {"seed", 3}, {"output_dir", out.toStdString()}};
    return run_train_recorded(ws_.toStdString(), parse_train_config(j, "test"), {}).run_id;
  }

  // Runs a job to its end; returns {status, message}.
  static std::pair<QString, QString> run_job(const ui::Job& job) {
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    worker.enqueue(job);
    if (!QTest::qWaitFor([&] { return finished.size() == 1; }, 120000)) return {"timeout", ""};
    return {imsm::test::job_status(finished.at(0)), finished.at(0).at(3).toString()};
  }

  static std::vector<store::RunRecord> evals_of(const QString& ws_path) {
    const store::Workspace ws(ws_path.toStdString(), store::Workspace::Mode::ReadOnly);
    std::vector<store::RunRecord> out;
    for (const auto& r : ws.runs())
      if (r.kind == "eval") out.push_back(r);
    return out;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(IMSM_SCREENSHOTS));
    std::tie(model_, data_) = test::make_tiny_model_and_data(QDir(dir_.path()));
    ws_ = dir_.filePath("eval.imsm");
    imsm_run_ = train("query", dir_.filePath("out-imsm"));
    lora_run_ = train("none", dir_.filePath("out-lora"));
    suite_ = dir_.filePath("tiny-suite.json");
    test::write(suite_, R"({"name": "tiny", "batch_size": 4, "benchmarks": [
      {"name": "plus", "dataset": "train.jsonl", "task": "webq", "metric": "Contain", "max_new_tokens": 4, "max_input_length": 32}]})");
  }

  // The dialog lists the finished training runs (the selection checked), offers the projects' suites, and says
  // what it will queue or, naming the run or file, why it cannot.
  void dialogPlans() {
    ui::EvaluateDialog d(ws_, {imsm_run_}, IMSM_SOURCE_DIR "/projects");
    QCOMPARE(d.runs()->count(), 2);  // training runs only, newest first
    QCOMPARE(d.runs()->item(1)->data(Qt::UserRole).toLongLong(), imsm_run_);
    QCOMPARE(d.runs()->item(1)->checkState(), Qt::Checked);
    QCOMPARE(d.runs()->item(0)->checkState(), Qt::Unchecked);
    QVERIFY(ui::suites_to_offer(ws_, IMSM_SOURCE_DIR "/projects").filter("paper-tasks-quick.json").size() == 1);
    d.use_suite(suite_);
    QVERIFY2(d.valid(), qPrintable(d.plan_text()));
    QVERIFY2(d.plan_text().contains("Queues 2 evaluation(s)"), qPrintable(d.plan_text()));  // the base model and the run
    QCOMPARE(d.request().run_ids, std::vector<int64_t>{imsm_run_});
    d.runs()->item(0)->setCheckState(Qt::Checked);
    QVERIFY2(d.plan_text().contains("Queues 3 evaluation(s)"), qPrintable(d.plan_text()));
    d.use_dataset(dir_.filePath("nowhere.jsonl"), "webq");
    QVERIFY(!d.valid());
    QVERIFY2(d.plan_text().contains("nowhere.jsonl") && d.plan_text().contains("no such dataset"), qPrintable(d.plan_text()));
    for (int i = 0; i < d.runs()->count(); ++i) d.runs()->item(i)->setCheckState(Qt::Unchecked);
    QVERIFY(!d.valid());
    QVERIFY2(d.plan_text().contains("at least one"), qPrintable(d.plan_text()));
  }

  // The recipe refuses, before any work, an evaluation run, a run that did not finish, and a base model that is gone.
  void refusesWhatCannotBeEvaluated() {
    RunsEvalRequest q;
    q.workspace = ws_.toStdString();
    q.suite = suite_.toStdString();
    int64_t cancelled = 0;
    {
      store::Workspace ws(ws_.toStdString());
      cancelled = ws.create_run({"train", "stopped", model_.toStdString(), data_.toStdString(), "{}", "cpu", "", 1, 0});
      ws.start_run(cancelled);
      ws.finish_run(cancelled, RunStatus::Cancelled);
    }
    auto message = [&](std::vector<int64_t> ids) -> QString {
      q.run_ids = std::move(ids);
      try {
        plan_runs_eval(q);
      } catch (const Error& e) {
        return QString::fromUtf8(e.what());
      }
      return {};
    };
    QVERIFY2(message({cancelled}).contains("has not finished (cancelled)"), qPrintable(message({cancelled})));
    QVERIFY2(message({999}).contains("999"), qPrintable(message({999})));
    const QString moved = model_ + ".moved";
    QVERIFY(QDir().rename(model_, moved));
    const QString gone = message({imsm_run_});
    QVERIFY(QDir().rename(moved, model_));
    QVERIFY2(gone.contains("base model " + model_ + " is gone"), qPrintable(gone));
  }

  // The worker's job: the suite for the base model and the IMSM run, recorded as evaluations linked to the run,
  // with the whole gate of each answer token; queued again, it reads them back instead of evaluating again.
  void workerEvaluatesOnASuite() {
    ui::EvaluateDialog d(ws_, {imsm_run_}, IMSM_SOURCE_DIR "/projects");
    d.use_suite(suite_);
    const ui::Job job{"evaluate", ui::EvaluateJob{d.request()}};
    const auto [status, message] = run_job(job);
    QVERIFY2(status == "finished", qPrintable(message));
    QCOMPARE(message, QString("2 evaluations of suite tiny"));
    const auto evals = evals_of(ws_);
    QCOMPARE(evals.size(), size_t{2});
    QCOMPARE(evals[0].parent_run_id, int64_t{0});  // the base model
    QCOMPARE(evals[1].parent_run_id, imsm_run_);
    const store::Workspace ws(ws_.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto scores = ws.evaluations(evals[1].id);
    QVERIFY(!scores.empty());
    QCOMPARE(scores.front().examples, int64_t{8});
    const auto predictions = ws.predictions(evals[1].id, "plus", true);
    QCOMPARE(predictions.size(), size_t{8});
    QVERIFY(!predictions[0].tokens.empty());
    QCOMPARE(predictions[0].tokens[0].gate.size(), size_t{32});  // hidden size: the whole gate, for the scope
    const auto [again, reused] = run_job(job);
    QCOMPARE(again, QString("finished"));
    QCOMPARE(reused, QString("2 evaluations (2 reused) of suite tiny"));
    QCOMPARE(evals_of(ws_).size(), size_t{2});
  }

  // One dataset and its task: the run alone (no base), its first 3 examples, the lengths it trained with.
  void workerEvaluatesOnADataset() {
    ui::EvaluateDialog d(ws_, {lora_run_}, IMSM_SOURCE_DIR "/projects");
    d.use_dataset(data_, "webq");
    RunsEvalRequest q = d.request();
    q.base = false;
    q.limit = 3;
    const RunsEvalPlan plan = plan_runs_eval(q);
    QCOMPARE(plan.evals.size(), size_t{1});
    QCOMPARE(plan.evals[0].max_new_tokens, int64_t{6});  // the run's max_output_length
    QCOMPARE(plan.labels[0], "run " + std::to_string(lora_run_));
    const auto [status, message] = run_job({"dataset", ui::EvaluateJob{q}});
    QVERIFY2(status == "finished", qPrintable(message));
    QCOMPARE(message, QString("1 evaluation of train.jsonl"));
    const auto evals = evals_of(ws_);
    QCOMPARE(evals.back().parent_run_id, lora_run_);
    const store::Workspace ws(ws_.toStdString(), store::Workspace::Mode::ReadOnly);
    QCOMPARE(ws.evaluations(evals.back().id).front().examples, int64_t{3});
  }

  // Opened, the window shows the forgetting view (there are evaluations), the latest training curves (nothing is
  // selected) and, in the memory-mixing view, the newest trace of the IMSM run with its gate; a workspace without
  // training runs says how to start one.
  void windowOpensOnSomething() {
    ui::MainWindow w;
    QVERIFY(w.open_workspace(ws_));
    QCOMPARE(w.views()->currentWidget(), static_cast<QWidget*>(w.forgetting_view()));
    QVERIFY(w.forgetting_view()->has_results());
    QCOMPARE(w.training_view()->curve_count(), 3);  // both trained runs and the cancelled one (no points)
    QVERIFY2(w.training_view()->caption().contains("latest training run"), qPrintable(w.training_view()->caption()));
    QVERIFY(w.inspector()->tokens().size() > 0);
    QVERIFY(w.inspector()->tokens().front().gate_mean >= 0);  // a trace with a gate, not the base model's
    QCOMPARE(w.inspector()->tokens().front().gate.size(), size_t{32});
    QCOMPARE(w.gate_scope()->gate().tokens, static_cast<int64_t>(w.inspector()->tokens().size()));  // the scope has the trace
    w.show();
    w.views()->setCurrentWidget(w.gate_scope());
    QVERIFY(!w.gate_scope()->scope());  // the offscreen platform composes no OpenGL: the tab says so instead of crashing
    QVERIFY(w.gate_scope()->findChild<QLabel*>()->text().contains("needs OpenGL"));
    QVERIFY(w.inspector()->show_run(imsm_run_));
    QVERIFY(!w.inspector()->show_run(lora_run_));  // plain LoRA: no gate to show
    w.runs_pane()->select_ids({lora_run_});
    QCOMPARE(w.training_view()->curve_count(), 1);
    QCOMPARE(w.training_view()->caption(), QString());

    const QString empty = dir_.filePath("empty.imsm");
    store::Workspace{empty.toStdString()};
    QVERIFY(w.open_workspace(empty));
    QVERIFY2(w.training_view()->hint().contains("No training run"), qPrintable(w.training_view()->hint()));
  }

  // A sweep queued from its grid in the worker, evaluated, charted: the score against the swept key, a point per run.
  void sweepTrainsEvaluatesAndCharts() {
    nlohmann::json base = {{"model_path", model_.toStdString()}, {"data_path", data_.toStdString()}, {"peft", "lora"}, {"variant", "query"},
                           {"lora_r", 4}, {"batch_size", 4}, {"num_epochs", 1}, {"max_input_length", 32}, {"max_output_length", 6},
                           {"output_dir", dir_.filePath("sweeps").toStdString()}};
    const auto cells = expand_sweep(base, parse_sweep_axes("learning_rate = 1e-4, 1e-2"), "5", "lr");
    QCOMPARE(cells.size(), size_t{2});
    ui::LiveRun live;
    ui::RunWorker worker(&live);
    QSignalSpy finished(&worker, &ui::RunWorker::job_finished);
    QList<qint64> ids;
    for (const TrainConfig& c : cells) {
      worker.enqueue({QString::fromStdString(c.label), ui::TrainJob{ws_, c}});
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 120000);
    for (int i = 0; i < 2; ++i) {
      QCOMPARE(imsm::test::job_status(finished.at(i)), QString("finished"));
      ids << finished.at(i).at(1).toLongLong();
    }
    RunsEvalRequest sweep;
    sweep.workspace = ws_.toStdString();
    sweep.run_ids = {ids[0], ids[1]};
    sweep.suite = suite_.toStdString();
    worker.enqueue({"sweep", ui::EvaluateJob{sweep}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 120000);
    QVERIFY2(imsm::test::job_status(finished.at(2)) == "finished", qPrintable(finished.at(2).at(3).toString()));
    ui::SweepChart chart(ws_, "lr");
    QCOMPARE(chart.data().keys, std::vector<std::string>{"learning_rate"});
    chart.show_key("learning_rate", "plus Contain");
    QCOMPARE(chart.plot()->graphCount(), 2);  // the seeds' points and the mean line
    QCOMPARE(chart.plot()->graph(0)->dataCount(), 2);
    QCOMPARE(chart.plot()->graph(0)->data()->at(1)->key, 1e-2);
    QCOMPARE(chart.plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);  // two decades
    QVERIFY2(chart.caption().startsWith("2 of the sweep's 2 runs"), qPrintable(chart.caption()));
    const store::Workspace ws(ws_.toStdString(), store::Workspace::Mode::ReadOnly);
    ui::RunsModel model;
    model.set_rows(run_summaries(ws));
    ui::RunsPane pane(&model);
    pane.select_sweep("lr");
    QCOMPARE(pane.selected_ids(), ids);
    chart.resize(720, 480);
    QVERIFY(chart.grab().save(IMSM_SCREENSHOTS "/sweep-chart-unit.png"));
  }
};

QTEST_MAIN(EvaluateTest)
#include "test_evaluate.moc"
