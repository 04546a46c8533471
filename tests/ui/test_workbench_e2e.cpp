// End to end, in a real window under Xvfb (xcb platform): the workbench runs a
// small experiment project on the bundled model through its worker, queues
// one more run, shows the curves, the forgetting dashboard and the
// memory-mixing inspector and its answer's whole gate in the gate scope
// (zoomed and dragged), evaluates a run from the window, shows the
// resource monitor, and saves a screenshot of each main view to
// build/screenshots/ (look at them: they are the documentation's pictures).
// Then the chat arena on the real SmolLM2 (from the set-up) with an IMSM run
// of a few steps: three answers to one question, side by side; and a LoRA of
// SmolLM2 trained and exported to GGUF from the window, which llama.cpp's own
// library decodes to the engine's greedy tokens.
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QListWidget>
#include <QProcess>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>
#include <qcustomplot.h>

#include "job_status.h"
#include "evaluate_dialog.h"
#include "export_dialog.h"
#include "forgetting_view.h"
#include "tradeoff_plot.h"
#include "gate_scope_pane.h"
#include "arena_view.h"
#include "inspector_view.h"
#include "library_panes.h"
#include "main_window.h"
#include "run_dialog.h"
#include "recipes/export.h"
#include "recipes/generate.h"
#include "recipes/project.h"
#include "store/workspace.h"
#include "views/run_table.h"
#include "recipes/train_record.h"
#include "run_worker.h"
#include "resource_view.h"
#include "runs_pane.h"
#include "training_view.h"

using namespace imsm;

const QString kSmolLM2 = IMSM_SOURCE_DIR "/.models/SmolLM2-135M-Instruct";

// The first `n` rows of the paper's CoLA train split, as a training file.
void write_cola_rows(const QString& path, int n) {
  std::ofstream data(path.toStdString());
  std::ifstream official(IMSM_SOURCE_DIR "/../shared/data/imsm-official/cola/data_train.json");
  std::string line;
  for (int i = 0; i < n && std::getline(official, line); ++i) data << line << "\n";
}

class WorkbenchE2E : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  static void shoot(QWidget* w, const char* name) {
    QDir().mkpath(IMSM_SCREENSHOTS);
    QApplication::processEvents();
    QTest::qWait(300);  // queued replots
    QVERIFY(w->grab().save(QString(IMSM_SCREENSHOTS "/") + name + ".png"));
  }

 private slots:
  void experimentInTheWindow() {
    QVERIFY(dir_.isValid());
    const nlohmann::json project = {
        {"name", "e2e"}, {"model", IMSM_SOURCE_DIR "/resources/models/wordnet-base"}, {"output_dir", dir_.filePath("out").toStdString()},
        {"data", {{"arith-train", {{"task", "arith"}, {"count", 48}, {"seed", 1}, {"max_steps", 1}, {"max_operand", 9}}},
                  {"arith-test", {{"task", "arith"}, {"count", 12}, {"seed", 2}, {"max_steps", 1}, {"max_operand", 9}}},
                  {"wordnet-qa", {{"task", "wordnet-qa"}, {"count", 24}, {"seed", 3}, {"concepts", 400}}}}},
        {"suite", {{"batch_size", 12},
                   {"benchmarks", {{{"name", "arith"}, {"dataset", "arith-test"}, {"task", "gsm8k"}, {"metric", "Accuracy"}, {"max_new_tokens", 24}},
                                   {{"name", "wordnet-qa"}, {"dataset", "wordnet-qa"}, {"task", "webq"}, {"metric", "Contain"}, {"max_new_tokens", 6}}}}}},
        {"train", {{"data", "arith-train"}, {"gate_probe_data", "arith-test"}, {"num_epochs", 2}, {"batch_size", 8}, {"learning_rate", 2e-3}, {"lora_r", 4}, {"gate_rank", 4},
                   {"max_input_length", 128}, {"max_output_length", 32}, {"target_modules", {"q_proj", "v_proj", "up_proj", "down_proj"}}}},
        {"runs", {{{"peft", "lora"}, {"variant", "none"}}, {{"peft", "lora"}, {"variant", "query"}}}},
        {"seeds", {1, 2}}};
    const QString project_file = dir_.filePath("e2e.json");
    std::ofstream(project_file.toStdString()) << project.dump(2);
    const ProjectPlan plan = plan_project(project_file.toStdString());

    QDir().mkpath(QString::fromStdString(plan.output_dir));
    ui::MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w, 30000));
    QVERIFY(w.open_workspace(QString::fromStdString(plan.workspace)));
    QSignalSpy finished(w.worker(), &ui::RunWorker::job_finished);

    // 1. The project, through the worker (as Run > Run project... does).
    w.enqueue({"e2e", ui::ProjectJob{project_file}});
    QTRY_VERIFY_WITH_TIMEOUT(w.progress_bar()->isVisible(), 60000);  // progress shows while it runs
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 600000);
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("finished"));

    // 2. One more short run from the run dialog: the project's IMSM(LoRA) preset, another seed; Start queues it.
    {
      ui::RunDialog d({}, {}, dir_.path(), &w);
      const int preset = d.presets()->findText("e2e: IMSM(LoRA) seed 1");
      QVERIFY(preset > 0);
      d.presets()->setCurrentIndex(preset);
      d.set_field("seed", "9");
      d.set_field("output_dir", dir_.filePath("out/extra"));
      d.resize(900, 600);
      d.show();
      QVERIFY(QTest::qWaitForWindowExposed(&d, 30000));
      shoot(&d, "run-dialog");
      QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
      d.accept();
      QCOMPARE(d.result(), int(QDialog::Accepted));
      const auto configs = d.configs();
      QCOMPARE(configs.size(), size_t{1});
      TrainConfig want = plan.runs[2];  // the preset's run with the two fields changed
      want.seed = 9;
      want.output_dir = dir_.filePath("out/extra").toStdString();
      const nlohmann::json got = configs[0].to_json(), expected = want.to_json();
      std::string differences;
      for (const auto& [key, value] : expected.items())
        if (got.value(key, nlohmann::json()) != value) differences += key + ": " + got.value(key, nlohmann::json()).dump() + " vs " + value.dump() + "; ";
      QVERIFY2(differences.empty(), differences.c_str());
      w.enqueue({"IMSM(LoRA) seed 9", ui::TrainJob{w.workspace(), configs[0]}});
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 300000);
    QCOMPARE(imsm::test::job_status(finished.at(1)), QString("finished"));
    const qint64 extra = finished.at(1).at(1).toLongLong();
    w.refresh();

    // 3. Training curves of every training run.
    QList<qint64> train_ids;
    auto* runs_view = w.runs_pane()->view();
    for (int r = 0; r < runs_view->model()->rowCount(); ++r)
      if (runs_view->model()->index(r, 1).data().toString() == "train") train_ids << runs_view->model()->index(r, 0).data(Qt::UserRole).toLongLong();
    QCOMPARE(train_ids.size(), 5);
    w.runs_pane()->select_ids(train_ids);
    QCOMPARE(w.training_view()->curve_count(), 5);
    w.views()->setCurrentIndex(0);
    shoot(&w, "training");

    // 4. The forgetting dashboard: Base, LoRA, IMSM(LoRA).
    w.views()->setCurrentIndex(1);
    QCOMPARE(w.forgetting_view()->table()->rowCount(), 3);
    shoot(&w, "forgetting");
    // ... and its learning-vs-forgetting tab, once the pool thread has its intervals: a point per trained method.
    QTRY_VERIFY_WITH_TIMEOUT(w.forgetting_view()->tradeoff()->note().contains("configuration"), 60000);
    QVERIFY2(w.forgetting_view()->tradeoff()->note().startsWith("2 configuration"), qPrintable(w.forgetting_view()->tradeoff()->note()));
    w.forgetting_view()->tabs()->setCurrentIndex(1);
    shoot(&w, "tradeoff");
    w.forgetting_view()->tabs()->setCurrentIndex(0);

    // 5. The inspector on the extra run, with a test problem as the prompt.
    w.views()->setCurrentIndex(2);
    QVERIFY(w.inspector()->select_run(extra));
    std::ifstream test_file(plan.output_dir + "/data/arith-test.jsonl");
    std::string line;
    std::getline(test_file, line);
    w.inspector()->set_prompt(QString::fromStdString(nlohmann::json::parse(line)["input"].get<std::string>()));
    QSignalSpy generated(w.inspector(), &ui::InspectorView::generated);
    w.inspector()->generate();
    QVERIFY(generated.wait(60000));
    QVERIFY2(generated.at(0).at(0).toBool(), qPrintable(generated.at(0).at(1).toString()));
    QVERIFY(!w.inspector()->tokens().empty());
    shoot(&w, "inspector");

    // 5b. The same answer's whole gate in the gate scope (Dear ImGui): real mouse input zooms and pans it.
    w.views()->setCurrentWidget(w.gate_scope());
    QCOMPARE(ui::opengl_problem(), QString());  // Xvfb's Mesa
    ui::GateScope* scope = w.gate_scope()->scope();
    QVERIFY(scope);
    QCOMPARE(scope->gate().tokens, static_cast<int64_t>(w.inspector()->tokens().size()));
    QTRY_VERIFY(scope->frames() > 0);
    const QPoint centre(scope->width() / 3, scope->height() / 2);
    for (int notch = 0; notch < 3; ++notch) {
      QWheelEvent wheel(QPointF(centre), scope->mapToGlobal(QPointF(centre)), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                        Qt::NoScrollPhase, false);
      QApplication::sendEvent(scope, &wheel);
      QTest::qWait(50);
    }
    QTRY_VERIFY(scope->view().v1 - scope->view().v0 < 0.6);
    const double v0 = scope->view().v0;
    QTest::mousePress(scope, Qt::LeftButton, {}, centre);
    QTest::qWait(30);
    QTest::mouseMove(scope, centre + QPoint(0, 60));
    QTest::qWait(30);
    QTest::mouseRelease(scope, Qt::LeftButton, {}, centre + QPoint(0, 60));
    QTRY_VERIFY(scope->view().v0 < v0);  // dragged down: earlier dimensions come into view
    QTest::mouseMove(scope, centre);
    QTRY_VERIFY(scope->hover().on);
    shoot(&w, "gate-scope");
    // The extra run's training probes as a waterfall: the probe's mean gate per dimension at each probe step.
    w.runs_pane()->select_ids({extra});
    w.gate_scope()->show_source(ui::GateScopePane::Probes);
    QCOMPARE(scope->gate().unit, std::string("probe step"));
    QVERIFY(scope->gate().tokens >= 2);
    QCOMPARE(scope->gate().dims, static_cast<int64_t>(w.inspector()->tokens().front().gate.size()));
    shoot(&w, "gate-scope-waterfall");
    w.gate_scope()->show_source(ui::GateScopePane::Answer);

    // 6. Evaluate the extra run from the window (the Evaluate dialog, the project's suite): the worker records it,
    //    and the memory-mixing view opens on its saved trace with the whole gate.
    {
      ui::EvaluateDialog d(w.workspace(), {extra}, IMSM_SOURCE_DIR "/projects");
      d.use_suite(QString::fromStdString(plan.output_dir + "/suite.json"));
      QVERIFY2(d.valid(), qPrintable(d.plan_text()));
      w.enqueue({"evaluation of the extra run", ui::EvaluateJob{d.request()}});
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 300000);
    QVERIFY2(imsm::test::job_status(finished.at(2)) == "finished", qPrintable(finished.at(2).at(3).toString()));
    w.inspector()->set_workspace(w.workspace());
    QVERIFY(w.inspector()->show_run(extra));
    QVERIFY(!w.inspector()->tokens().empty() && !w.inspector()->tokens().front().gate.empty());
    shoot(&w, "evaluated-trace");

    // 7. The resource monitor, live.
    w.views()->setCurrentWidget(w.resources());
    QTRY_VERIFY_WITH_TIMEOUT(w.resources()->host_plot()->graph(0)->dataCount() >= 3, 10000);
    shoot(&w, "resources");

    // 8. The library panes.
    w.views()->setCurrentIndex(0);
    QTabWidget* library = w.library();  // not findChild<QTabWidget*>(): that found the views' tabs, so the three shots were one
    library->setCurrentWidget(w.models_pane());
    QCOMPARE(library->currentWidget(), static_cast<QWidget*>(w.models_pane()));
    QTRY_VERIFY(w.models_pane()->list()->count() >= 1);
    shoot(&w, "models");
    library->setCurrentWidget(w.datasets_pane());
    QTRY_VERIFY(w.datasets_pane()->list()->count() >= 1);
    w.datasets_pane()->list()->setCurrentRow(0);
    shoot(&w, "datasets");
    library->setCurrentWidget(w.runs_pane());
    shoot(&w, "runs");
  }

  void arenaOnSmolLM2() {
    const QString model = kSmolLM2;
    if (!QFileInfo::exists(model + "/config.json")) QSKIP("SmolLM2 is not set up (installer/quickstart.sh installs it)");
    QTemporaryDir dir;
    write_cola_rows(dir.filePath("cola.jsonl"), 16);
    const nlohmann::json config = {{"model_path", model.toStdString()}, {"data_path", dir.filePath("cola.jsonl").toStdString()},
                                   {"peft", "lora"}, {"variant", "query"}, {"lora_r", 8}, {"gate_rank", 4}, {"learning_rate", 1e-3},
                                   {"batch_size", 4}, {"num_epochs", 1}, {"max_output_length", 4},
                                   {"output_dir", dir.filePath("run").toStdString()}};
    const QString workspace = dir.filePath("arena.imsm");
    const RecordedTrain trained = run_train_recorded(workspace.toStdString(), parse_train_config(config, "arena"));
    QCOMPARE(QString(status_name(trained.summary.status)), QString("finished"));

    ui::MainWindow w;
    w.resize(1280, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w, 30000));
    QVERIFY(w.open_workspace(workspace));
    w.views()->setCurrentWidget(w.arena());
    QVERIFY(w.arena()->select_run(trained.run_id));
    w.arena()->set_settings(true, 0.7, 0.9, 48);
    w.arena()->set_message("What is the capital of France?");
    QSignalSpy answered(w.arena(), &ui::ArenaView::answered);
    w.arena()->send();
    QVERIFY(answered.wait(240000));
    QVERIFY2(answered.at(0).at(0).toBool(), qPrintable(answered.at(0).at(1).toString()));
    QVERIFY(answered.at(0).at(1).toString().contains("chat template"));  // SmolLM2's own, in its chat
    QVERIFY(w.arena()->answer_text(ArenaSide::Base).contains("Paris"));   // what the base model knows
    shoot(&w, "arena");
  }

  void ggufExportOfSmolLM2FromTheWindow() {
#ifndef IMSM_LLAMA_CONSUMER
    QSKIP("this build has no llama.cpp (IMSM_WITH_GGUF off)");
#else
    const QString model = kSmolLM2;
    if (!QFileInfo::exists(model + "/config.json")) QSKIP("SmolLM2 is not set up (installer/quickstart.sh installs it)");
    QTemporaryDir dir;
    write_cola_rows(dir.filePath("cola.jsonl"), 16);
    const nlohmann::json config = {{"model_path", model.toStdString()}, {"data_path", dir.filePath("cola.jsonl").toStdString()},
                                   {"peft", "lora"}, {"variant", "none"}, {"lora_r", 8}, {"learning_rate", 2e-3}, {"batch_size", 4},
                                   {"num_epochs", 1}, {"max_output_length", 4}, {"output_dir", dir.filePath("run").toStdString()}};
    ui::MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w, 30000));
    QVERIFY(w.open_workspace(dir.filePath("gguf.imsm")));
    QSignalSpy finished(w.worker(), &ui::RunWorker::job_finished);
    w.worker()->enqueue({"SmolLM2 LoRA", ui::TrainJob{dir.filePath("gguf.imsm"), parse_train_config(config, "e2e")}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 240000);
    QCOMPARE(imsm::test::job_status(finished.at(0)), QString("finished"));
    const store::Workspace ws(dir.filePath("gguf.imsm").toStdString(), store::Workspace::Mode::ReadOnly);
    const std::optional<ExportRequest> request = export_request_of(ws.run(finished.at(0).at(1).toLongLong()));
    QVERIFY(request.has_value());
    // The Export dialog asks for GGUF f32 (the engine's own precision: tokens comparable exactly); the worker writes it.
    ui::ExportDialog dialog(*request, summarize_adapter(request->adapter_dir), dir.filePath("cola.jsonl"));
    dialog.out()->setText(dir.filePath("gguf"));
    dialog.format()->setCurrentIndex(dialog.format()->findData("gguf"));
    dialog.quant()->setCurrentText("f32");
    QVERIFY2(dialog.valid(), qPrintable(dialog.plan_text()));
    w.worker()->enqueue({"export gguf", ui::ExportJob{dialog.request()}});
    ExportRequest hf = *request;  // and the merged Hugging Face folder, which the engine decodes
    hf.out_dir = dir.filePath("merged").toStdString();
    w.worker()->enqueue({"export hf", ui::ExportJob{hf}});
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 240000);
    QVERIFY2(imsm::test::job_status(finished.at(1)) == "finished", qPrintable(finished.at(1).at(3).toString()));
    QVERIFY2(imsm::test::job_status(finished.at(2)) == "finished", qPrintable(finished.at(2).at(3).toString()));
    const QStringList ggufs = QDir(dir.filePath("gguf")).entryList({"*.f32.gguf"});
    QCOMPARE(ggufs.size(), 1);
    QVERIFY(QFileInfo::exists(dir.filePath("gguf/Modelfile")));

    const std::vector<std::string> prompts = {"The capital of France is", "Is this sentence grammatical? The cat sat.", "Water boils at"};
    std::ofstream(dir.filePath("prompts.json").toStdString()) << nlohmann::json(prompts).dump();
    QProcess llama;
    llama.start(IMSM_LLAMA_CONSUMER, {"greedy", dir.filePath("gguf/" + ggufs.front()), dir.filePath("prompts.json"), "12"});
    QVERIFY(llama.waitForFinished(240000));
    QCOMPARE(llama.exitCode(), 0);
    const QStringList lines = QString::fromUtf8(llama.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), static_cast<qsizetype>(prompts.size()));
    for (size_t i = 0; i < prompts.size(); ++i) {
      GenerateRequest g;
      g.source = {hf.out_dir, "", DeviceSpec::cpu(), Precision::F32};
      g.prompt = prompts[i];
      g.max_new_tokens = 12;
      const std::vector<int32_t> engine = run_generate(g, {}).ids;
      const auto got = nlohmann::json::parse(lines[static_cast<qsizetype>(i)].toStdString())["ids"].get<std::vector<int32_t>>();
      QVERIFY2(got == engine, prompts[i].c_str());
    }
#endif
  }
};

QTEST_MAIN(WorkbenchE2E)
#include "test_workbench_e2e.moc"
