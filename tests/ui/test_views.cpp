// The result views against workspaces written through the real store: the
// training view draws evaluations during training (the held-out loss beside
// the training loss, the held-out metric and retention benchmarks as curves,
// the best adapter's step marked) from the workspace and from the live run;
// the forgetting view gives each base model its own Base row and measures
// each configuration against its own.
#include <QTemporaryDir>
#include <QTableWidget>
#include <QtTest>
#include <qcustomplot.h>

#include <fstream>

#include "forgetting_view.h"
#include "live_run.h"
#include "run_dialog.h"
#include "store/workspace.h"
#include "training_view.h"

using namespace imsm;

class ViewsTest : public QObject {
  Q_OBJECT

 private slots:
  void trainingViewDrawsEvaluationsDuringTraining() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("ws.imsm").toStdString();
    const std::string best = dir.filePath("best-adapter").toStdString();
    QDir().mkpath(QString::fromStdString(best));
    std::ofstream(best + "/best.json") << R"({"step": 4, "metric": "loss", "value": 1.1})";
    int64_t id = 0;
    {
      store::Workspace ws(path);
      id = ws.create_run({"train", "lora", "", "", R"({"peft": "lora", "variant": "query"})", "cpu", "", 1, 0});
      ws.start_run(id);
      std::vector<StepRecord> steps;
      for (int s = 1; s <= 8; ++s) steps.push_back(StepRecord{.step = s, .epoch = (s - 1) / 4, .loss = 3.0 - 0.2 * s, .learning_rate = 1e-3});
      ws.add_train_metrics(id, steps);
      ws.add_validation(id, {{4, 0, "held-out", "Loss", 1.1}, {4, 0, "held-out", "EM", 0.25}, {4, 0, "held-out", "Contain", 0.5},
                             {4, 0, "wordnet-qa", "Contain", 0.9}, {8, 1, "held-out", "Loss", 1.3}, {8, 1, "held-out", "EM", 0.5},
                             {8, 1, "held-out", "Contain", 0.5}, {8, 1, "wordnet-qa", "Contain", 0.7}});
      ws.add_artifact(id, "best-adapter", best);
      ws.finish_run(id, RunStatus::Finished);
    }
    ui::TrainingView v;
    v.show_runs(QString::fromStdString(path), {id});
    QCOMPARE(v.curve_count(), 1);
    QCOMPARE(v.loss_plot()->graphCount(), 2);  // the training loss and the held-out loss
    QCOMPARE(v.loss_plot()->graph(1)->dataCount(), 2);
    QCOMPARE(v.loss_plot()->graph(1)->data()->at(1)->value, 1.3);
    // The held-out set's headline (EM, its first metric after the loss) and the retention benchmark: two curves.
    QCOMPARE(v.validation_plot()->graphCount(), 2);
    QStringList names;
    for (int i = 0; i < 2; ++i) names << v.validation_plot()->graph(i)->name();
    names.sort();
    QCOMPARE(names, QStringList({"held-out EM", "wordnet-qa Contain"}));
    QVERIFY(v.validation_plot()->isVisibleTo(&v));
    // The best adapter's step marked on the loss and validation plots.
    QCOMPARE(v.loss_plot()->itemCount(), 2);  // the hint and the mark
    auto* mark = qobject_cast<QCPItemStraightLine*>(v.validation_plot()->item(0));
    QVERIFY(mark);
    QCOMPARE(mark->point1->coords().x(), 4.0);

    // The live run: its validation replaces what the workspace had, its best step moves the mark.
    ui::LiveRun live;
    live.begin("lora");
    live.set_run_id(id);
    for (const StepRecord& s : {StepRecord{.step = 1, .loss = 2.0}, StepRecord{.step = 2, .loss = 1.5}}) live.add(s);
    live.add(ValidationRecord{2, 0, "held-out", "Loss", 0.9});
    live.add(ValidationRecord{2, 0, "held-out", "EM", 0.75});
    live.set_best_step(2);
    v.update_live(live.snapshot());
    QCOMPARE(v.loss_plot()->graph(1)->dataCount(), 1);
    QCOMPARE(v.validation_plot()->graphCount(), 1);
    QCOMPARE(v.validation_plot()->graph(0)->data()->at(0)->value, 0.75);
    QCOMPARE(qobject_cast<QCPItemStraightLine*>(v.validation_plot()->item(0))->point1->coords().x(), 2.0);

    // A run without evaluations during training: no validation plot.
    v.show_runs(QString(), {});
    QCOMPARE(v.validation_plot()->graphCount(), 0);
    QVERIFY(!v.validation_plot()->isVisibleTo(&v));
  }

  void forgettingViewHasABaseRowPerModel() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("ws.imsm").toStdString();
    const std::string data = dir.filePath("qa.jsonl").toStdString();
    std::ofstream(data) << "{}\n";
    {
      store::Workspace ws(path);
      auto eval = [&](const std::string& model, int64_t parent, double qa) {
        const int64_t e = ws.create_run({"eval", "suite", model, "", "{}", "cpu", "", 0, parent});
        ws.start_run(e);
        ws.add_evaluations(e, data, {{"qa", "webq", "Contain", qa, 10, "", ""}});
        ws.finish_run(e, RunStatus::Finished);
      };
      for (const std::string model : {"/models/small", "/models/large"}) {
        eval(model, 0, model == "/models/small" ? 0.5 : 0.75);
        const int64_t t = ws.create_run({"train", "lora", model, "", R"({"peft": "lora", "variant": "none"})", "cpu", "", 1, 0});
        ws.start_run(t);
        ws.finish_run(t, RunStatus::Finished);
        eval(model, t, 0.25);
      }
    }
    ui::ForgettingView v;
    v.show_workspace(QString::fromStdString(path));
    QCOMPARE(v.table()->rowCount(), 4);
    QStringList rows;
    for (int r = 0; r < 4; ++r) rows << v.table()->verticalHeaderItem(r)->text();
    QCOMPARE(rows, QStringList({"Base · small", "LoRA · small", "Base · large", "LoRA · large"}));
    QCOMPARE(v.table()->item(1, 1)->text(), QString("-0.2500"));  // 0.25 - 0.5: its own base
    QCOMPARE(v.table()->item(3, 1)->text(), QString("-0.5000"));  // 0.25 - 0.75
    QVERIFY(!v.table()->item(0, 1));                             // a Base row has no change
    QVERIFY(v.table()->verticalHeaderItem(3)->toolTip().contains("/models/large"));
  }

  // The run dialog's keys of evaluation during training: checked by the engine's own plan as they are typed.
  void runDialogChecksEvaluationDuringTraining() {
    QTemporaryDir dir;
    const QString data = dir.filePath("train.jsonl"), held_out = dir.filePath("held-out.jsonl");
    for (const QString& f : {data, held_out}) std::ofstream(f.toStdString()) << R"({"input": "copy ab", "output": "ab"})" << "\n";
    ui::RunDialog d({IMSM_SOURCE_DIR "/resources/models/wordnet-base"}, {data}, dir.path());
    d.set_field("data_path", data);
    d.set_field("output_dir", dir.filePath("out"));
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    d.set_field("early_stopping_patience", "2");  // nothing to watch
    QVERIFY2(d.error_text().contains("early_stopping_patience") && d.error_text().contains("test_data_path"), qPrintable(d.error_text()));
    d.set_field("test_data_path", held_out);  // "held-out.jsonl" names no task
    QVERIFY2(d.error_text().contains("eval_task"), qPrintable(d.error_text()));
    d.set_field("eval_task", "webq");
    d.set_field("best_metric", "MCC");  // not a score of webq
    QVERIFY2(d.error_text().contains("best_metric"), qPrintable(d.error_text()));
    d.set_field("best_metric", "EM");
    d.set_field("eval_steps", "10");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    const auto configs = d.configs();
    QCOMPARE(configs.size(), size_t{1});
    QCOMPARE(QString::fromStdString(configs[0].test_data_path), held_out);
    QCOMPARE(configs[0].eval_steps, int64_t{10});
    QCOMPARE(configs[0].early_stopping_patience, int64_t{2});
    QCOMPARE(QString::fromStdString(configs[0].best_metric), QString("EM"));
    QCOMPARE(configs[0].gate_learning_rate, 1e-3);  // the field's "official" setting
  }
};

QTEST_MAIN(ViewsTest)
#include "test_views.moc"
