// The run configuration dialog: every field of `imsm train`, presets from the
// runs of projects/*.json, validation as you type by the engine's own parser
// (the message names the key), and Start, which queues the run (one per seed
// when several seeds are given). A preset whose files the project makes (its
// datasets of bundled tasks, its suite) and that are not there yet gets them
// made on Start, by the same recipe as `imsm project`. A sweep grid queues
// one labelled run per cell and seed (asking first above 100 runs).
#pragma once
#include <QDialog>
#include <QList>
#include <QStringList>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/train_config.h"
#include "recipes/memory_check.h"
#include "recipes/project.h"
#include "run_fields.h"

class QComboBox;
class QGroupBox;
class QLineEdit;
class QPlainTextEdit;
class QDialogButtonBox;
class QLabel;
class QLayout;

namespace imsm::ui {

class RunDialog : public QDialog {
  Q_OBJECT
 public:
  // models, datasets: the workspace's (offered in the combo boxes); projects_dir: where presets come from.
  RunDialog(const QStringList& models, const QStringList& datasets, const QString& projects_dir, QWidget* parent = nullptr);

  const RunFields& fields() const { return fields_; }  // tests: the widgets by key
  nlohmann::json config_json() const;             // the fields as `imsm train` keys, without the seed (configs() adds each)
  std::vector<TrainConfig> configs() const;       // one per seed; empty when the fields are invalid
  int processes() const;                          // each run on this many processes (torchrun) when > 1
  QString error_text() const;                     // "" when valid
  QString note_text() const;                      // what Start will do besides queueing (e.g. make the data)
  QString memory_text() const;                    // the run's memory estimate beside the device's free memory
  QString make_missing_data();                    // makes a preset project's missing files; "" or the error
  void accept() override;                         // makes them first; stays open on an error
  void apply_preset(const nlohmann::json& config);  // fields from a train configuration
  QComboBox* presets() const { return presets_; }
  void set_field(const QString& key, const QString& value);  // by `imsm train` key (tests, presets)
  // A sweep grid (config/sweep_grid.h): its name and one "key = v1, v2" per line; both empty: no sweep.
  void set_sweep(const QString& name, const QString& axes);
  // More than kSweepCellsToConfirm runs: asks whether to queue them all (accept() calls it).
  bool confirm_large_sweep();

 private:
  void make_fields(const QStringList& models, const QStringList& datasets);
  void present_fields();
  void lay_out();
  QLayout* method_column();
  QWidget* training_group();
  QWidget* advanced_group();
  void validate();
  void load_presets(const QString& projects_dir);
  void make_sweep_box();

  std::vector<size_t> pending_projects() const;  // the projects that make missing files the fields name (data, probe, held-out set, suite)
  bool project_makes(const QString& path) const;  // a preset's project makes this file (so Start can, when it is missing)
  const RowLengths& row_lengths(const TrainConfig& c);  // the data's, tokenized again only when a key or file that decides them changes

  std::vector<nlohmann::json> preset_configs_;
  nlohmann::json preset_ = nlohmann::json::object();  // what presets set, the keys without a field included
  std::vector<ProjectPlan> projects_;          // the presets' projects
  std::map<std::string, size_t> project_of_;  // by file: the project (index in projects_) that makes it
  std::string lengths_of_;  // what row_lengths_ were measured for
  RowLengths row_lengths_;
  RunFields fields_;  // every `imsm train` key the dialog edits, and "seed" (one run per seed)
  QComboBox* presets_;
  QGroupBox* sweep_;
  QLineEdit* sweep_name_;
  QPlainTextEdit* sweep_axes_;
  QLabel *error_, *note_, *memory_;
  QDialogButtonBox* buttons_;
};

}  // namespace imsm::ui
