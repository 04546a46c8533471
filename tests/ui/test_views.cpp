// The result views against workspaces written through the real store: the
// training view draws evaluations during training (the held-out loss beside
// the training loss, the held-out metric and retention benchmarks as curves,
// the best adapter's step marked) from the workspace and from the live run;
// the forgetting view gives each base model its own Base row and measures
// each configuration against its own, and exports the report and its plots;
// the resource monitor draws an injected sampler's readings, greys the GPU's
// when NVML fails, and hides the GPU part (saying why) when there is none.
#include <QFileInfo>
#include <QLabel>
#include <QImage>
#include <QPainter>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTableWidget>
#include <QTextDocument>
#include <QtTest>
#include <qcustomplot.h>

#include <atomic>
#include <fstream>

#include "export.h"
#include "flips_dialog.h"
#include "forgetting_view.h"
#include "tradeoff_plot.h"
#include "live_run.h"
#include "resource_view.h"
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

  // A negative score (CoLA's MCC after a short LoRA run on SmolLM2: -0.14) is a bar below the zero line, whisker included.
  void forgettingBarsGoBelowZero() {
    QTemporaryDir dir;
    const QString ws_path = dir.filePath("negative.imsm"), data = dir.filePath("cola.jsonl");
    std::ofstream(data.toStdString()) << "{\"input\": \"Is this a sentence?\", \"output\": \"yes\"}\n";
    {
      store::Workspace ws(ws_path.toStdString());
      auto eval = [&](int64_t parent, double mcc) {
        const int64_t id = ws.create_run({"eval", "suite", "/models/tiny", "", "{}", "cpu", "", 0, parent});
        ws.start_run(id);
        ws.add_evaluations(id, data.toStdString(), {{"cola", "cola", "MCC", mcc, 200, "", ""}});
        ws.finish_run(id, imsm::RunStatus::Finished);
      };
      eval(0, 0.08);
      for (const double mcc : {-0.10, -0.18}) {
        const int64_t t = ws.create_run({"train", "lora", "/models/tiny", "", R"({"peft": "lora", "variant": "none"})", "cpu", "", 1, 0});
        ws.start_run(t);
        ws.finish_run(t, imsm::RunStatus::Finished);
        eval(t, mcc);
      }
    }
    ui::ForgettingView v;
    v.show_workspace(ws_path);
    QCPBars* lora = nullptr;
    for (int i = 0; i < v.plot()->plottableCount(); ++i)
      if (auto* b = qobject_cast<QCPBars*>(v.plot()->plottable(i)); b && b->name() == "LoRA") lora = b;
    QVERIFY(lora != nullptr);
    QCOMPARE(lora->data()->size(), 1);
    QVERIFY(std::abs(lora->data()->at(0)->value - (-0.14)) < 1e-12);  // the seeds' mean
    // The whisker's end: -0.14 - 0.0566 (sample std of -0.10, -0.18) = -0.1966, inside the axis.
    QVERIFY2(v.plot()->yAxis->range().lower < -0.1966, qPrintable(QString::number(v.plot()->yAxis->range().lower)));
    QVERIFY(v.plot()->yAxis->range().upper >= 1.0);
    QCOMPARE(v.plot()->yAxis->grid()->zeroLinePen().style(), Qt::SolidLine);
  }

  // Forgetting dashboard: bars and table from the workspace's evaluations (mean ± sample std over seeds, change from Base).
  void forgettingViewAndExport() {
    QTemporaryDir dir;
    const QString model = "/models/tiny", data = dir.filePath("train.jsonl");
    std::ofstream(data.toStdString()) << "{\"input\": \"What is 1 plus 1?\", \"output\": \"2\"}\n";
    QVERIFY(QDir().mkpath(IMSM_SCREENSHOTS));
    const QString ws_path = dir.filePath("forgetting.imsm");
    {
      store::Workspace ws(ws_path.toStdString());
      auto eval = [&](int64_t parent, double arith, double qa) {
        const int64_t id = ws.create_run({"eval", "suite", model.toStdString(), "", "{}", "cpu", "", 0, parent});
        ws.start_run(id);
        ws.add_evaluations(id, data.toStdString(), {{"arith", "gsm8k", "Accuracy", arith, 10, "", ""}, {"qa", "webq", "Contain", qa, 10, "", ""}});
        std::vector<store::Prediction> answers;  // qa's items behind its score (arith has none stored: not tested)
        for (int i = 0; i < 10; ++i) answers.push_back({i, "Where is the Louvre?", {"Paris"}, i < qa * 10 - 0.5 ? "in Paris" : "Rome", {}});
        ws.add_predictions(id, "qa", answers);
        ws.finish_run(id, imsm::RunStatus::Finished);
      };
      eval(0, 0.1, 0.9);
      for (int seed : {1, 2}) {
        const int64_t t = ws.create_run({"train", "lora", model.toStdString(), data.toStdString(), R"({"peft": "lora", "variant": "none"})", "cpu", "", seed, 0});
        ws.start_run(t);
        ws.finish_run(t, imsm::RunStatus::Finished);
        eval(t, seed == 1 ? 0.5 : 0.7, seed == 1 ? 0.6 : 0.4);
      }
    }
    ui::ForgettingView v;
    v.show_workspace(ws_path);
    QCOMPARE(v.plot()->plottableCount(), 4);  // bars + error bars for Base and LoRA
    QCOMPARE(v.table()->rowCount(), 2);
    QCOMPARE(v.table()->verticalHeaderItem(1)->text(), QString("LoRA"));
    QCOMPARE(v.table()->item(0, 0)->text(), QString("0.1000"));  // one run: no spread to show
    QCOMPARE(v.table()->item(1, 0)->text(), QString("0.6000 ± 0.1414"));  // 0.5, 0.7: sample std 0.1414
    QCOMPARE(v.table()->item(1, 1)->text(), QString("+0.5000"));
    QCOMPARE(v.table()->item(1, 3)->text(), QString("-0.4000"));  // qa: 0.5 vs 0.9 — forgetting; its interval comes from a pool thread
    // The average of the two benchmarks: LoRA seeds (0.5 + 0.6) / 2, (0.7 + 0.4) / 2 -> 0.55 ± 0; Base (0.1 + 0.9) / 2 = 0.5.
    QCOMPARE(v.table()->item(1, 4)->text(), QString("0.5500 ± 0.0000"));
    QCOMPARE(v.table()->item(1, 5)->text(), QString("+0.0500"));
    QVERIFY(v.table()->horizontalHeaderItem(1)->toolTip().contains("forgetting"));
    QSignalSpy ready(&v, &ui::ForgettingView::significance_ready);
    QVERIFY(ready.wait(30000));
    // qa: base right on 9 of 10, LoRA on 6 and 4: the items' differences of seed means are -0.5 (items 4, 5) and -1 (6..8);
    // of the 2^5 sign patterns only all-minus and all-plus reach |sum| 4: p = 2/32 = 0.0625 — not significant with 10
    // questions, so no mark and no colour.
    QVERIFY2(v.table()->item(1, 3)->text().startsWith("-0.4000 ["), qPrintable(v.table()->item(1, 3)->text()));
    QVERIFY(!v.table()->item(1, 3)->text().endsWith("*"));
    QVERIFY2(v.table()->item(1, 3)->toolTip().contains("McNemar randomization: p = 0.0625"), qPrintable(v.table()->item(1, 3)->toolTip()));
    QCOMPARE(v.table()->item(1, 1)->text(), QString("+0.5000"));  // arith: no predictions stored, no interval
    QVERIFY(v.table()->item(1, 1)->toolTip().contains("Not tested"));
    QVERIFY2(v.tradeoff()->note().startsWith("No trade-off picture"), qPrintable(v.tradeoff()->note()));  // arith's items are not stored
    // A selection (seed 1's training run, id 2): its evaluation and the base's, nothing else.
    v.show_workspace(ws_path, {2});
    QVERIFY(v.caption().contains("selected"));
    QCOMPARE(v.table()->rowCount(), 2);
    QCOMPARE(v.table()->item(1, 0)->text(), QString("0.5000"));  // seed 1 alone
    QCOMPARE(v.table()->item(0, 0)->text(), QString("0.1000"));  // the base it is compared with
    QVERIFY(ready.wait(30000));
    v.resize(1000, 600);
    QVERIFY(v.grab().save(IMSM_SCREENSHOTS "/forgetting-unit.png"));

    // Export: the report in four formats, the plot in three; each file is what its format says it is.
    auto head = [](const QString& f, int n) {
      QFile file(f);
      return file.open(QIODevice::ReadOnly) ? file.read(n) : QByteArray();
    };
    for (const char* ext : {"html", "md", "csv", "pdf"}) {
      const QString out = dir.filePath(QString("report.") + ext);
      QCOMPARE(ui::export_report(ws_path, {}, out), QString());
      QVERIFY2(QFileInfo(out).size() > 200, ext);
    }
    QCOMPARE(head(dir.filePath("report.pdf"), 5), QByteArray("%PDF-"));
    // The PDF carries the HTML report's plots: one image object per inline SVG of report.html.
    const int plots = static_cast<int>(head(dir.filePath("report.html"), 1 << 22).count("<svg"));
    QVERIFY(plots >= 1);
    QCOMPARE(static_cast<int>(head(dir.filePath("report.pdf"), 1 << 24).count("/Subtype /Image")), plots);
    {
      const auto doc = ui::report_document(ws_path, {});
      doc->setTextWidth(800);
      QImage page(800, 1100, QImage::Format_RGB32);
      page.fill(Qt::white);
      QPainter painter(&page);
      doc->drawContents(&painter, QRectF(0, 0, 800, 1100));
      painter.end();
      QVERIFY(page.save(IMSM_SCREENSHOTS "/report-pdf-page1.png"));
    }
    QVERIFY(head(dir.filePath("report.html"), 100000).contains("0.6000 ± 0.1414"));
    QVERIFY(head(dir.filePath("report.csv"), 100000).contains("LoRA"));
    QCOMPARE(ui::save_plot(v.plot(), dir.filePath("bars.png")), QString());
    QCOMPARE(head(dir.filePath("bars.png"), 8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    QCOMPARE(ui::save_plot(v.plot(), dir.filePath("bars.svg")), QString());
    QVERIFY(head(dir.filePath("bars.svg"), 100000).contains("<svg"));
    QCOMPARE(ui::save_plot(v.plot(), dir.filePath("bars.pdf")), QString());
    QCOMPARE(head(dir.filePath("bars.pdf"), 5), QByteArray("%PDF-"));
    QVERIFY(ui::save_plot(v.plot(), dir.filePath("bars.gif")).contains(".png"));
  }

  // The learning-forgetting tab: a point per configuration (gain on the first benchmark, change on the other), error
  // bars both ways, LoRA's fixed mix as a line from LoRA, the Pareto front; numbers as report/tradeoff.h gives them.
  void forgettingViewTradeoffTab() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("ws.imsm").toStdString(), data = dir.filePath("set.jsonl").toStdString();
    std::ofstream(data) << "{}\n";
    {
      store::Workspace ws(path);
      auto eval = [&](int64_t parent, int task, int keep, const std::string& config) {
        const int64_t e = ws.create_run({"eval", "suite", "/models/tiny", "", config, "cpu", "", 0, parent});
        ws.start_run(e);
        for (const auto& [name, right] : {std::pair<std::string, int>{"task", task}, {"keep", keep}}) {
          std::vector<store::Prediction> answers;
          for (int i = 0; i < 20; ++i) answers.push_back({i, "Capital of France?", {"Paris"}, i < right ? "Paris" : "Lyon", {}});
          ws.add_evaluations(e, data, {{name, "webq", "EM", right / 20.0, 20, "", ""}});
          ws.add_predictions(e, name, answers);
        }
        ws.finish_run(e, RunStatus::Finished);
      };
      eval(0, 4, 18, "{}");
      const int64_t lora = ws.create_run({"train", "lora", "/models/tiny", "", R"({"peft": "lora", "variant": "none"})", "cpu", "", 1, 0});
      ws.start_run(lora);
      ws.finish_run(lora, RunStatus::Finished);
      eval(lora, 16, 8, "{}");
      eval(lora, 12, 14, R"({"mix_alpha": 0.5})");
    }
    ui::ForgettingView v;
    QSignalSpy ready(&v, &ui::ForgettingView::significance_ready);
    v.show_workspace(QString::fromStdString(path));
    QVERIFY(ready.wait(30000));
    QCustomPlot* plot = v.tradeoff()->plot();
    QCOMPARE(plot->graphCount(), 1);  // one method: LoRA, as trained and at α = ½
    QCOMPARE(plot->graph(0)->dataCount(), 2);
    std::vector<std::pair<double, double>> points;
    for (int i = 0; i < 2; ++i) points.emplace_back(plot->graph(0)->data()->at(i)->key, plot->graph(0)->data()->at(i)->value);
    std::sort(points.begin(), points.end());
    const std::vector<std::pair<double, double>> expected = {{0.4, -0.2}, {0.6, -0.5}};  // α = ½: (12 - 4) / 20, (14 - 18) / 20; LoRA: (16 - 4) / 20, (8 - 18) / 20
    for (size_t i = 0; i < 2; ++i) {  // differences of fractions of 20: exact to a few ulps
      QVERIFY(std::abs(points[i].first - expected[i].first) < 1e-12);
      QVERIFY(std::abs(points[i].second - expected[i].second) < 1e-12);
    }
    int error_bars = 0, curves = 0;
    for (int i = 0; i < plot->plottableCount(); ++i) {
      error_bars += qobject_cast<QCPErrorBars*>(plot->plottable(i)) != nullptr;
      curves += qobject_cast<QCPCurve*>(plot->plottable(i)) != nullptr;
    }
    QCOMPARE(error_bars, 2);  // gain and retention intervals
    QCOMPARE(curves, 2);      // the α line and the front (both points are on it: neither beats the other on both axes)
    QVERIFY2(v.tradeoff()->note().contains("2 configuration"), qPrintable(v.tradeoff()->note()));
    v.tabs()->setCurrentIndex(1);
    v.resize(1000, 700);
    QVERIFY(v.grab().save(IMSM_SCREENSHOTS "/tradeoff-unit.png"));

    // Items that flipped from the base (run 1) to LoRA (run 3): task 4..15 gained, keep 8..17 lost.
    ui::FlipsDialog flips(QString::fromStdString(path), 1, 3);
    QVERIFY2(flips.caption().contains("12 gained, 10 lost of 40 examples"), qPrintable(flips.caption()));
    QCOMPARE(flips.table()->rowCount(), 22);
    flips.set_filter("keep", "", "");
    QCOMPARE(flips.table()->rowCount(), 10);
    QCOMPARE(flips.table()->item(0, 2)->text(), QString("lost"));
    QCOMPARE(flips.table()->item(0, 5)->text(), QString("Paris"));  // the base answered right
    flips.set_filter("", "gained", "");
    QCOMPARE(flips.table()->rowCount(), 12);
    flips.set_filter("", "", "no such text");
    QCOMPARE(flips.table()->rowCount(), 0);
    flips.set_filter("task", "gained", "");
    QSignalSpy open(&flips, &ui::FlipsDialog::open_requested);
    emit flips.table()->cellDoubleClicked(0, 3);
    QCOMPARE(open.count(), 1);
    QCOMPARE(open.at(0).at(0).toLongLong(), 3);
    QCOMPARE(open.at(0).at(1).toString(), QString("task"));
    QCOMPARE(open.at(0).at(2).toInt(), 4);
    ui::FlipsDialog wrong(QString::fromStdString(path), 1, 2);  // run 2 trains
    QVERIFY2(wrong.caption().contains("train run"), qPrintable(wrong.caption()));
    QCOMPARE(wrong.table()->rowCount(), 0);
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

  // A sampler as NVML on a GPU machine would give: two readings, then the GPU falls off the bus.
  void resourceMonitorShowsAndGreysTheGpu() {
    std::atomic<int> n{0};
    ui::ResourceView view(
        [&] {
          const int k = ++n;
          ResourceSample s;
          s.cpu_percent = 150;
          s.rss_bytes = int64_t{3} << 30;
          s.host_used_bytes = int64_t{6} << 30;
          s.host_total_bytes = int64_t{24} << 30;
          if (k <= 2) s.gpus.push_back({0, "NVIDIA H200", 87, int64_t{40} << 30, int64_t{140} << 30, 64, 512});
          else s.gpu_problem = "NVML, GPU 0: GPU is lost";
          return s;
        },
        std::chrono::milliseconds(30));
    QTRY_VERIFY_WITH_TIMEOUT(view.host_plot()->graph(0)->dataCount() >= 2 && !view.gpu_label()->isHidden(), 5000);
    QVERIFY2(view.host_label()->text().contains("CPU 150%") && view.host_label()->text().contains("24.00 GiB"), qPrintable(view.host_label()->text()));
    QCOMPARE(view.gpu_label()->text(), QString("GPU 0 NVIDIA H200: 87% · 40.00 GiB of 140.00 GiB · 64 °C · 512 W"));
    QCOMPARE(view.gpu_plot()->graphCount(), 2);  // utilisation and memory
    QCOMPARE(view.gpu_plot()->graph(1)->data()->at(0)->value, 40.0);  // GiB
    QTRY_VERIFY_WITH_TIMEOUT(view.gpu_stale(), 5000);  // NVML failed: the last values stay, greyed, with its message
    QCOMPARE(view.gpu_label()->text(), QString("GPU 0 NVIDIA H200: 87% · 40.00 GiB of 140.00 GiB · 64 °C · 512 W"));
    QVERIFY(view.gpu_label()->styleSheet().contains("gray"));
    QVERIFY2(view.gpu_label()->toolTip().contains("GPU is lost"), qPrintable(view.gpu_label()->toolTip()));
    view.resize(900, 600);
    QVERIFY(view.grab().save(IMSM_SCREENSHOTS "/resources-unit.png"));
  }

  // No NVML (this machine): no GPU part, and the tooltip says why.
  void resourceMonitorWithoutGpu() {
    ui::ResourceView view(
        [] {
          ResourceSample s;
          s.host_total_bytes = int64_t{24} << 30;
          s.gpu_problem = "libnvidia-ml.so.1 not found: no NVIDIA driver on this machine";
          return s;
        },
        std::chrono::milliseconds(30));
    QTRY_VERIFY_WITH_TIMEOUT(view.host_plot()->graph(0)->dataCount() >= 2, 5000);
    QVERIFY(view.gpu_label()->isHidden());
    QVERIFY(view.gpu_plot()->isHidden());
    QVERIFY2(view.host_label()->toolTip().contains("No GPU part: libnvidia-ml.so.1 not found"), qPrintable(view.host_label()->toolTip()));
  }
};

QTEST_MAIN(ViewsTest)
#include "test_views.moc"
