// The run dialog: presets from the runs of project files, every key checked by
// the engine's own parser and plans as it is typed, and Start making the files
// a preset's project makes (its data, its suite) when they are not there yet;
// sweep grids.
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QMessageBox>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "model/cuda_device.h"
#include "recipes/make_data.h"
#include "recipes/memory_check.h"
#include "recipes/validation.h"
#include "run_dialog.h"
#include "tiny_model.h"

using namespace imsm;

class RunDialogTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString model_, data_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(IMSM_SCREENSHOTS));  // a fresh build has none yet
    std::tie(model_, data_) = test::make_tiny_model_and_data(QDir(dir_.path()));
  }

  // Each field is made from the engine's key table: its default, its choices, its help as the tooltip.
  void fieldsComeFromTheKeyTable() {
    ui::RunDialog d({model_}, {data_}, IMSM_SOURCE_DIR "/projects");
    const nlohmann::json values = d.fields().values();
    // Not the table's default, by design: the paths start at the first model and dataset offered, the modules at
    // LoRA's (the table's empty list means the method's own), the seeds are a list ("42" for the key's 42).
    const std::set<std::string> own = {"model_path", "data_path", "target_modules", "seed", "processes"};
    int checked = 0;
    for (const std::string& key : d.fields().keys()) {
      if (own.count(key)) continue;
      const TrainKey* k = find_train_key(key);
      QVERIFY2(k, key.c_str());
      QWidget* w = d.fields()[key];
      QCOMPARE(w->toolTip(), QString::fromStdString(k->help));
      if (k->type == KeyType::Number) QCOMPARE(values[key].get<double>(), k->default_value.get<double>());
      else QVERIFY2(values[key] == k->default_value, (key + ": " + values[key].dump() + " vs " + k->default_value.dump()).c_str());
      if (k->type == KeyType::Choice) {
        auto* box = qobject_cast<QComboBox*>(w);
        QStringList items;
        for (int i = 0; i < box->count(); ++i) items << box->itemText(i);
        QStringList want;
        for (const auto& c : k->choices) want << QString::fromStdString(c);
        QCOMPARE(items, want);
      }
      ++checked;
    }
    QVERIFY(checked >= 45);  // the dialog shows most of the table
    QCOMPARE(values["model_path"].get<std::string>(), model_.toStdString());
    QCOMPARE(d.fields()["seed"]->toolTip().startsWith(QString::fromStdString(find_train_key("seed")->help)), true);
  }

  // The run dialog: presets are the runs of the project files; the engine's parser validates as you type.
  void runDialog() {
    ui::RunDialog d({model_}, {data_}, IMSM_SOURCE_DIR "/projects");
    size_t matrix = 0;  // every project file's runs x their seeds
    for (const QString& f : QDir(IMSM_SOURCE_DIR "/projects").entryList({"*.json"}, QDir::Files)) {
      std::ifstream in((IMSM_SOURCE_DIR "/projects/" + f).toStdString());
      const auto project = nlohmann::json::parse(in);
      for (const auto& run : project["runs"]) matrix += run.contains("seeds") ? run["seeds"].size() : project["seeds"].size();  // a run's own seeds
    }
    QCOMPARE(d.presets()->count(), static_cast<int>(1 + matrix));  // "(none)" and the projects' matrices
    std::ifstream in(IMSM_SOURCE_DIR "/projects/quickstart.json");
    const auto project = nlohmann::json::parse(in);
    const int imsm_ia3 = d.presets()->findText("quickstart: IMSM((IA)³) seed 2");
    QVERIFY(imsm_ia3 > 0);
    d.presets()->setCurrentIndex(imsm_ia3);
    d.resize(900, 560);
    QDir().mkpath(IMSM_SCREENSHOTS);
    QVERIFY(d.grab().save(IMSM_SCREENSHOTS "/run-dialog-unit.png"));
    for (QGroupBox* g : d.findChildren<QGroupBox*>())
      if (g->title() == "Advanced") g->setChecked(true);
    d.resize(900, 700);
    QVERIFY(d.grab().save(IMSM_SCREENSHOTS "/run-dialog-advanced-unit.png"));
    // Valid whether or not the quickstart has run: its data is there, or Start makes it (see runDialogMakesPresetData).
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    auto configs = d.configs();
    QCOMPARE(configs.size(), size_t{1});
    QVERIFY(configs[0].peft == imsm::PeftMethod::IA3);
    QVERIFY(configs[0].variant == imsm::GateVariant::Query);
    QCOMPARE(configs[0].seed, uint64_t{2});
    QCOMPARE(configs[0].gate_probe_examples, int64_t{8});  // the engine's default, shown and passed on
    QCOMPARE(configs[0].learning_rate, project["runs"][3]["learning_rate"].get<double>());
    QCOMPARE(configs[0].num_epochs, project["train"]["num_epochs"].get<int64_t>());
    QCOMPARE(configs[0].target_modules, project["runs"][3]["target_modules"].get<std::vector<std::string>>());
    QVERIFY2(QString::fromStdString(configs[0].output_dir).endsWith("/runs/quickstart/IMSM-IA3-seed2"), configs[0].output_dir.c_str());
    QVERIFY2(QString::fromStdString(configs[0].gate_probe_data).endsWith("/runs/quickstart/data/arith-test.jsonl"), configs[0].gate_probe_data.c_str());

    d.set_field("model_path", model_);
    d.set_field("data_path", data_);
    d.set_field("seed", "1, 2");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    configs = d.configs();
    QCOMPARE(configs.size(), size_t{2});
    QVERIFY(configs[1].output_dir.size() > 6 && configs[1].output_dir.substr(configs[1].output_dir.size() - 6) == "-seed2");
    d.set_field("seed", "1, x");
    QVERIFY2(d.error_text().contains("\"x\""), qPrintable(d.error_text()));
    d.set_field("seed", "3");
    d.set_field("model_path", dir_.filePath("nowhere"));
    QVERIFY2(d.error_text().contains("model_path"), qPrintable(d.error_text()));
    d.set_field("model_path", model_);
    d.set_field("gate_probe_data", dir_.filePath("no-probe.jsonl"));
    QVERIFY2(d.error_text().contains("gate_probe_data") && d.error_text().contains("no-probe.jsonl"), qPrintable(d.error_text()));
    d.set_field("gate_probe_data", data_);
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QCOMPARE(QString::fromStdString(d.configs().at(0).gate_probe_data), data_);
    // The forgetting baselines reach the configuration; the engine's refusals show as the dialog's one line.
    d.set_field("replay_data", data_);
    QVERIFY2(d.error_text().contains("replay_ratio"), qPrintable(d.error_text()));  // data without a ratio
    d.set_field("replay_ratio", "0.5");
    d.set_field("kl_lambda", "0.25");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QCOMPARE(d.configs().at(0).replay_ratio, 0.5);
    QCOMPARE(QString::fromStdString(d.configs().at(0).replay_data), data_);
    QCOMPARE(d.configs().at(0).kl_lambda, 0.25);
    d.set_field("ewc_lambda", "10");
    QVERIFY2(d.error_text().contains("ewc_data"), qPrintable(d.error_text()));
    d.set_field("ewc_data", dir_.filePath("no-general.jsonl"));
    QVERIFY2(d.error_text().contains("ewc_data: no file"), qPrintable(d.error_text()));
    for (const char* key : {"replay_data", "ewc_data"}) d.set_field(key, "");
    for (const char* key : {"replay_ratio", "kl_lambda", "ewc_lambda"}) d.set_field(key, "0");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    // The advanced keys reach the configuration, and the engine's checks apply to them too.
    d.set_field("label", "LoRA lr 1e-3 ");
    QCOMPARE(d.configs()[0].label, std::string("LoRA lr 1e-3"));
    d.set_field("label", "");
    QCOMPARE(d.configs()[0].label, std::string());  // the report names it from the method
    d.set_field("save_steps", "25");
    d.set_field("deltaT", "3");
    d.set_field("input_field", "question");
    d.set_field("max_grad_norm", "0");
    configs = d.configs();
    QCOMPARE(configs[0].save_steps, int64_t{25});
    QCOMPARE(configs[0].delta_t, int64_t{3});
    QCOMPARE(configs[0].input_field, std::string("question"));
    QCOMPARE(configs[0].max_grad_norm, 0.0);
    // The memory estimate reads the data as the run will: a field the rows lack is named before Start.
    QVERIFY2(d.error_text().contains("train.jsonl:1: missing field \"question\""), qPrintable(d.error_text()));
    d.set_field("input_field", "input");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    d.set_field("peft", "adalora");
    d.set_field("lora_r", "8");
    d.set_field("adalora_target_rank", "12");
    QVERIFY2(d.error_text().contains("adalora_target_rank"), qPrintable(d.error_text()));
    d.set_field("adalora_target_rank", "4");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    // Processes: how the runs start, not what they train (no key of the configuration); CUDA needs one GPU each.
    QCOMPARE(d.processes(), 1);
    d.set_field("processes", "2");
    QCOMPARE(d.processes(), 2);
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QVERIFY(!d.config_json().contains("processes"));
    d.set_field("device", "cuda");
    if (cuda_device_count() < 2) QVERIFY2(d.error_text().contains("processes: 2 processes on CUDA need 2 GPUs"), qPrintable(d.error_text()));
    d.set_field("device", "cpu");
    d.set_field("processes", "1");
    d.apply_preset({{"target_modules", nlohmann::json::array()}});
    QVERIFY2(d.error_text().contains("target_modules"), qPrintable(d.error_text()));
  }

  // A preset whose project makes its training data, before the project ever ran: no error, a note, and Start
  // makes the file — byte for byte what the make-data recipe writes for the project's request.
  void runDialogMakesPresetData() {
    const QString projects = dir_.filePath("projects");
    QDir().mkpath(projects);
    const QString out = dir_.filePath("tiny-project");
    const nlohmann::json project = {
        {"name", "tiny"}, {"model", model_.toStdString()}, {"output_dir", out.toStdString()},
        {"data", {{"train", {{"task", "arith"}, {"count", 40}, {"seed", 5}, {"max_steps", 1}, {"max_operand", 9}}},
                  {"probe", {{"task", "arith"}, {"count", 10}, {"seed", 6}}}}},
        {"suite", {{"benchmarks", {{{"name", "a"}, {"dataset", "train"}, {"task", "gsm8k"}, {"metric", "Accuracy"}}}}}},
        {"train", {{"data", "train"}, {"gate_probe_data", "probe"}, {"test_data_path", "probe"}, {"eval_task", "gsm8k"}, {"eval_suite", "suite"},
                   {"num_epochs", 1}, {"batch_size", 4}}},
        {"runs", {{{"peft", "lora"}, {"variant", "query"}}}},
        {"seeds", {1}}};
    std::ofstream(projects.toStdString() + "/tiny.json") << project.dump(1);
    const QString made = out + "/data/train.jsonl";

    ui::RunDialog d({model_}, {data_}, projects);
    QCOMPARE(d.presets()->count(), 2);
    d.presets()->setCurrentIndex(1);
    QVERIFY(!QFileInfo::exists(made));
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    const QString probe = out + "/data/probe.jsonl";
    QVERIFY2(d.note_text().contains("40 records") && d.note_text().contains("arith") && d.note_text().contains(made), qPrintable(d.note_text()));
    QVERIFY2(d.note_text().contains("10 records") && d.note_text().contains(probe), qPrintable(d.note_text()));
    const QString suite = out + "/suite.json";  // the held-out set and the suite evaluated during training: made too
    QVERIFY2(d.note_text().contains(suite), qPrintable(d.note_text()));
    QCOMPARE(QString::fromStdString(d.configs().at(0).gate_probe_data), probe);
    QCOMPARE(QString::fromStdString(d.configs().at(0).test_data_path), probe);
    QCOMPARE(QString::fromStdString(d.configs().at(0).eval_suite), suite);
    d.accept();
    QCOMPARE(d.result(), int(QDialog::Accepted));
    QVERIFY(d.note_text().isEmpty());
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QVERIFY(QFileInfo(probe).isFile());
    const imsm::ValidationPlan during = imsm::validation_plan(d.configs().at(0));  // the files as training reads them
    QCOMPARE(during.sets.size(), size_t{2});
    QCOMPARE(during.sets[1].name, std::string("a"));
    QCOMPARE(QString::fromStdString(during.sets[1].dataset), made);
    DataRequest q;
    q.task = "arith";
    q.count = 40;
    q.seed = 5;
    q.max_steps = 1;
    q.max_operand = 9;
    q.out = dir_.filePath("expected.jsonl").toStdString();
    QCOMPARE(make_data(q), int64_t{40});
    QFile a(made), b(QString::fromStdString(q.out));
    QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
    QCOMPARE(a.readAll(), b.readAll());

    // Where the data cannot be written (its folder is a file), Start says why, naming the folder, and the dialog stays open.
    QFile::remove(made);
    QDir(out).removeRecursively();
    QFile blocker(out);
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    ui::RunDialog e({model_}, {data_}, projects);
    e.presets()->setCurrentIndex(1);
    e.setResult(QDialog::Rejected);
    e.accept();
    QCOMPARE(e.result(), int(QDialog::Rejected));
    QVERIFY2(e.error_text().contains(out + "/data") && e.error_text().contains("output_dir"), qPrintable(e.error_text()));
  }

  // The run's memory estimate beside the device's free memory, as the engine computes it; a run that cannot fit
  // cannot be started (memory_check), and the Advanced keys that change the estimate change what is shown.
  void runDialogShowsTheMemoryEstimate() {
    ui::RunDialog d({model_}, {data_}, dir_.filePath("no-projects"));
    d.set_field("model_path", model_);
    d.set_field("data_path", data_);
    d.set_field("output_dir", dir_.filePath("memory-run"));
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QVERIFY2(d.memory_text().startsWith("Memory: about") && d.memory_text().contains("free on cpu"), qPrintable(d.memory_text()));
    const MemoryCheck engine = check_memory(d.configs().at(0), true, training_row_lengths(d.configs().at(0)));  // as run_train checks
    QVERIFY(engine.from_data);  // the batch as long as the data's longest row
    QVERIFY2(d.memory_text().contains(QString::fromStdString(format_bytes(engine.estimate.peak_bytes()))), qPrintable(d.memory_text()));
    d.set_field("batch_size", "100000000");  // the data's rows are short: the batch, not the lengths, makes it too large
    d.set_field("max_input_length", "32768");
    d.set_field("max_output_length", "32768");
    QVERIFY2(d.error_text().startsWith("memory_check:") && d.error_text().contains("to fit"), qPrintable(d.error_text()));
    d.set_field("memory_check", "false");  // the user's call: the estimate still shows
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    QVERIFY(d.memory_text().contains("free on cpu"));
    const auto rows = training_row_lengths(d.configs().at(0));
    const double all_layers = check_memory(d.configs().at(0), true, rows).estimate.peak_bytes();  // on CPU auto keeps every layer
    d.set_field("gradient_checkpointing", "on");
    QVERIFY(d.configs().at(0).gradient_checkpointing == imsm::Checkpointing::On);
    const double checkpointed = check_memory(d.configs().at(0), true, rows).estimate.peak_bytes();
    QVERIFY(checkpointed != all_layers);  // the engine's estimate moves (down on deep models; this one is too shallow to gain)
    QVERIFY2(d.memory_text().contains(QString::fromStdString(format_bytes(checkpointed))), qPrintable(d.memory_text()));
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

  // A sweep grid: one labelled run per cell and seed, the count said under the fields, a bad value named by its key,
  // and more than 100 runs asked about before queueing.
  void runDialogSweeps() {
    ui::RunDialog d({model_}, {data_}, IMSM_SOURCE_DIR "/projects");
    d.set_field("model_path", model_);
    d.set_field("data_path", data_);
    d.set_field("output_dir", dir_.filePath("sweeps"));
    d.set_field("seed", "1, 2");
    d.set_sweep("lr-variant", "learning_rate = 1e-3, 2e-3\nvariant = query, none");
    QVERIFY2(d.error_text().isEmpty(), qPrintable(d.error_text()));
    const auto runs = d.configs();
    QCOMPARE(runs.size(), size_t{8});
    QCOMPARE(runs[2].label, std::string("LoRA · learning_rate=0.001, variant=none"));
    QCOMPARE(runs[2].sweep, std::string("lr-variant"));
    QCOMPARE(QString::fromStdString(runs[7].output_dir), dir_.filePath("sweeps/lr-variant/learning_rate=0.002,variant=none-seed2"));
    QVERIFY2(d.note_text().contains("The sweep queues 8 runs"), qPrintable(d.note_text()));
    d.set_sweep("bad", "lora_r = 4, -1");
    QVERIFY2(d.error_text().contains("lora_r"), qPrintable(d.error_text()));
    d.set_sweep("", "lora_r = 4");
    QVERIFY2(d.error_text().contains("name"), qPrintable(d.error_text()));
    d.set_sweep("big", "lora_r = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11\nlora_alpha = 1, 2, 3, 4, 5");  // 55 cells x 2 seeds
    QVERIFY2(d.note_text().contains("110 runs") && d.note_text().contains("asks first"), qPrintable(d.note_text()));
    bool asked = false;
    QTimer::singleShot(200, [&] {
      for (QWidget* top : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(top)) {
          asked = box->text().contains("110 runs");
          box->button(QMessageBox::No)->click();
        }
    });
    QVERIFY(!d.confirm_large_sweep());
    QVERIFY(asked);
    d.set_sweep("", "");
    QCOMPARE(d.configs().size(), size_t{2});  // no sweep: one run per seed
  }
};

QTEST_MAIN(RunDialogTest)
#include "test_run_dialog.moc"
