// The chat arena: one conversation with an IMSM run, answered side by side by
// the base model, the run's adapter alone and IMSM's mix (recipes/arena.h).
// The answers stream in as the engine generates them: the engine's thread
// writes the text under a mutex, the view redraws on a timer. Stop ends the
// answer being generated. The IMSM answer's tokens are coloured by their gate;
// hovering one shows the three streams' top-5 there. "Continue with" takes
// one answer into the conversation. Each turn is saved in the workspace with
// the run and the settings (recipes/arena_record.h); the run's conversations
// reopen from the list, and one exports to Markdown. The model stays loaded
// between turns (until another run is chosen). Settings: greedy (a
// reproducible comparison) or temperature and top-p, the answer's length, the
// chat template.
#pragma once
#include <QFutureWatcher>
#include <QString>
#include <QTimer>
#include <QWidget>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "recipes/arena_record.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;
class QUrl;

namespace imsm::ui {

// What the engine's thread has generated so far, per side (base, tuned, IMSM).
struct ArenaStream {
  std::mutex mu;
  std::array<std::string, 3> text;
  uint64_t version = 0;
  std::atomic<bool> abort{false};
};

struct ArenaOutcome {
  ArenaTurn turn;
  QString error;                        // the engine's message when it failed or was stopped
  std::shared_ptr<LoadedModel> loaded;  // what it ran on, kept for the next turn
};

class ArenaView : public QWidget {
  Q_OBJECT
 public:
  explicit ArenaView(QWidget* parent = nullptr);
  ~ArenaView() override;  // stops a turn in flight and waits for it
  void set_workspace(const QString& workspace);  // the IMSM runs to talk to
  bool select_run(qint64 run_id);
  void set_message(const QString& text);
  void set_settings(bool greedy, double temperature, double top_p, int max_new_tokens);
  void send();  // asynchronous; answered() follows
  void stop();
  void continue_with(ArenaSide side);  // the last turn's user message and this answer into the conversation
  const std::vector<ChatMessage>& conversation() const { return conversation_; }
  const ArenaTurn& turn() const { return turn_; }
  QString answer_text(ArenaSide side) const;  // as shown
  QString token_details(int index) const;     // the IMSM answer's token `index`, as hovering shows it
  QString markdown() const;                   // the whole conversation ("" before a turn)
  bool export_markdown(const QString& path, QString* error);
  QComboBox* runs() const { return runs_; }
  QComboBox* conversations() const { return conversations_; }  // the chosen run's saved ones, newest first
  qint64 conversation_id() const { return conversation_id_; }  // 0: not saved yet
  bool open_conversation(qint64 id);  // a saved one of the chosen run, where it stopped
  void new_conversation();

 signals:
  void answered(bool ok, const QString& message);

 private:
  void make_widgets();
  void lay_out();
  void redraw();  // the timer: the streamed text, when it moved
  void finish();  // the turn's outcome
  void show_conversation(const std::vector<ChatMessage>& messages);
  void show_answers(const ArenaSavedTurn& turn);
  void save();                   // the conversation into the workspace, after each turn and choice
  void fill_conversations();     // the chosen run's, into the list
  qint64 run_id() const;
  void hover_token(const QUrl& url);
  ArenaRequest request() const;

  QString workspace_;
  std::map<qint64, ModelSource> sources_;  // IMSM runs by id
  QComboBox* runs_;
  QComboBox* conversations_;
  QPushButton* new_conversation_;
  QTextBrowser* history_;
  QPlainTextEdit* message_;
  QPushButton *send_, *stop_, *export_;
  QCheckBox* greedy_;
  QDoubleSpinBox *temperature_, *top_p_;
  QSpinBox* max_new_;
  QLineEdit* template_;
  std::array<QTextBrowser*, 3> answers_{};
  std::array<QPushButton*, 3> continue_{};
  QLabel* status_;
  QTimer redraw_timer_;
  std::shared_ptr<ArenaStream> stream_;
  uint64_t shown_version_ = 0;
  QFutureWatcher<ArenaOutcome> watcher_;
  std::shared_ptr<LoadedModel> loaded_;
  std::vector<ChatMessage> conversation_;  // the turns agreed so far
  ArenaRequest last_request_;
  ArenaTurn turn_;                     // the last turn generated here (its traces: the hover)
  std::vector<ArenaSavedTurn> saved_;  // every turn of the conversation, as saved
  qint64 conversation_id_ = 0;
};

}  // namespace imsm::ui
