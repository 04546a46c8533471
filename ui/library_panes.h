// The workspace's library: models (Hugging Face folders, checked by the
// engine's inspector before they are added) and datasets (JSON / JSON lines,
// read by the training loader, previewed with their prompt/answer split and
// token counts). Refusals carry the engine's message, which names the file,
// line or key.
#pragma once
#include <QString>
#include <QWidget>

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace imsm::ui {

class ModelsPane : public QWidget {
  Q_OBJECT
 public:
  explicit ModelsPane(QWidget* parent = nullptr);
  void set_workspace(const QString& path);  // reloads the list
  void reload();
  // Inspects `dir` and adds it; false (and error() emitted, the message shown) when refused.
  bool add_model(const QString& dir);
  // Where "Add GGUF…" writes the Hugging Face folder of `gguf`: models/<its name> beside the
  // workspace (a free name: -2, -3, ... when taken).
  QString import_folder_for(const QString& gguf) const;
  QString current_model() const;  // the selected folder, "" when none
  QListWidget* list() const { return list_; }
  // The models every user has (the bundled toy, the installed SmolLM2) that this workspace does not
  // hold yet; a double click adds one.
  QListWidget* installed() const { return installed_; }
  QString details_text() const;
  QString error_text() const;

 signals:
  void model_selected(const QString& dir);
  // "Add GGUF…": the window runs the import in the worker, then add_model(out_dir).
  void import_gguf_requested(const QString& gguf, const QString& out_dir);
  void error(const QString& message);

 private:
  void show_details();

  QString workspace_;
  QListWidget* list_;
  QListWidget* installed_;
  QPlainTextEdit* details_;
  QLabel* error_;
  QPushButton* add_;
  QPushButton* add_gguf_;
};

class DatasetsPane : public QWidget {
  Q_OBJECT
 public:
  explicit DatasetsPane(QWidget* parent = nullptr);
  void set_workspace(const QString& path);
  void reload();
  void set_tokenizer(const QString& model_dir);  // token counts use this model's tokenizer
  bool add_dataset(const QString& file);
  QListWidget* list() const { return list_; }
  QTableWidget* preview() const { return preview_; }
  QString error_text() const;

 signals:
  void error(const QString& message);

 private:
  void show_preview();

  QString workspace_, tokenizer_dir_;
  QListWidget* list_;
  QTableWidget* preview_;
  QLabel* summary_;
  QLabel* error_;
  QPushButton* add_;
};

}  // namespace imsm::ui
