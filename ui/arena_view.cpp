#include "arena_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCursor>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <exception>

#include "io/json_file.h"
#include "runs_model.h"
#include "store/workspace.h"
#include "token_html.h"
#include "views/run_table.h"

namespace imsm::ui {
namespace {

const char* kTitles[3] = {QT_TRANSLATE_NOOP("ArenaView", "Base model (original memory)"),
                          QT_TRANSLATE_NOOP("ArenaView", "Adapter alone (fine-tuned memory)"),
                          QT_TRANSLATE_NOOP("ArenaView", "IMSM (gate-coloured: blue original, orange fine-tuned)")};

size_t index_of(ArenaSide side) { return static_cast<size_t>(side); }

}  // namespace

ArenaView::ArenaView(QWidget* parent) : QWidget(parent), stream_(std::make_shared<ArenaStream>()) {
  make_widgets();
  lay_out();
  connect(send_, &QPushButton::clicked, this, &ArenaView::send);
  connect(stop_, &QPushButton::clicked, this, &ArenaView::stop);
  connect(export_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the conversation"), "arena.md", tr("Markdown (*.md)"));
    QString error;
    if (!path.isEmpty() && !export_markdown(path, &error)) status_->setText(error);
  });
  for (const ArenaSide side : arena_sides())
    connect(continue_[index_of(side)], &QPushButton::clicked, this, [this, side] { continue_with(side); });
  connect(greedy_, &QCheckBox::toggled, this, [this](bool greedy) {
    temperature_->setEnabled(!greedy);
    top_p_->setEnabled(!greedy);
  });
  connect(answers_[index_of(ArenaSide::Imsm)], &QTextBrowser::highlighted, this, &ArenaView::hover_token);
  connect(&redraw_timer_, &QTimer::timeout, this, &ArenaView::redraw);
  connect(&watcher_, &QFutureWatcher<ArenaOutcome>::finished, this, &ArenaView::finish);
  connect(runs_, &QComboBox::currentIndexChanged, this, [this] {
    loaded_.reset();
    new_conversation();
    fill_conversations();
  });
  connect(conversations_, &QComboBox::activated, this, [this](int i) { open_conversation(conversations_->itemData(i).toLongLong()); });
  connect(new_conversation_, &QPushButton::clicked, this, &ArenaView::new_conversation);
  redraw_timer_.setInterval(50);
}

ArenaView::~ArenaView() {
  stream_->abort = true;
  watcher_.waitForFinished();
}

void ArenaView::make_widgets() {
  runs_ = new QComboBox(this);
  conversations_ = new QComboBox(this);
  conversations_->setToolTip(tr("This run's saved conversations: choose one to go on where it stopped"));
  new_conversation_ = new QPushButton(tr("New conversation"), this);
  history_ = new QTextBrowser(this);
  message_ = new QPlainTextEdit(this);
  message_->setPlaceholderText(tr("Your message to the three of them"));
  send_ = new QPushButton(tr("Send"), this);
  stop_ = new QPushButton(tr("Stop"), this);
  stop_->setEnabled(false);
  export_ = new QPushButton(tr("Export Markdown…"), this);
  export_->setEnabled(false);
  greedy_ = new QCheckBox(tr("Greedy (the same answers every time)"), this);
  greedy_->setChecked(true);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0.05, 2.0);
  temperature_->setSingleStep(0.05);
  temperature_->setValue(0.7);
  top_p_ = new QDoubleSpinBox(this);
  top_p_->setRange(0.05, 1.0);
  top_p_->setSingleStep(0.05);
  top_p_->setValue(0.9);
  temperature_->setEnabled(false);
  top_p_->setEnabled(false);
  max_new_ = new QSpinBox(this);
  max_new_->setRange(1, 4096);
  max_new_->setValue(128);
  template_ = new QLineEdit("auto", this);
  template_->setToolTip(tr("auto (the model's own chat template when it has one), on, off (bare prompts) or a template file"));
  for (size_t i = 0; i < 3; ++i) {
    answers_[i] = new QTextBrowser(this);
    answers_[i]->setOpenLinks(false);
    continue_[i] = new QPushButton(tr("Continue with this answer"), this);
    continue_[i]->setEnabled(false);
  }
  status_ = new QLabel(this);
  status_->setWordWrap(true);
}

void ArenaView::lay_out() {
  auto* settings = new QFormLayout;
  settings->addRow(tr("IMSM run"), runs_);
  settings->addRow(tr("Conversation"), conversations_);
  settings->addRow(new_conversation_);
  settings->addRow(greedy_);
  settings->addRow(tr("Temperature"), temperature_);
  settings->addRow(tr("Top-p"), top_p_);
  settings->addRow(tr("New tokens at most"), max_new_);
  settings->addRow(tr("Chat template"), template_);
  auto* ask = new QVBoxLayout;
  ask->addWidget(history_, 2);
  ask->addWidget(message_, 1);
  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {send_, stop_, export_}) buttons->addWidget(b);
  ask->addLayout(buttons);
  auto* top = new QHBoxLayout;
  top->addLayout(ask, 3);
  top->addLayout(settings, 1);
  auto* sides = new QHBoxLayout;
  for (size_t i = 0; i < 3; ++i) {
    auto* column = new QVBoxLayout;
    column->addWidget(new QLabel(QString("<b>%1</b>").arg(tr(kTitles[i])), this));
    column->addWidget(answers_[i], 1);
    column->addWidget(continue_[i]);
    sides->addLayout(column, 1);
  }
  auto* all = new QVBoxLayout(this);
  all->addLayout(top, 2);
  all->addLayout(sides, 3);
  all->addWidget(status_);
}

void ArenaView::set_workspace(const QString& workspace) {
  workspace_ = workspace;
  loaded_.reset();
  sources_.clear();
  runs_->clear();
  if (workspace.isEmpty()) return;
  try {
    const store::Workspace ws(workspace.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const ImsmRun& r : imsm_runs(ws.runs())) {
      sources_[r.run.id] = r.source;
      runs_->addItem(run_title(r.run), QVariant::fromValue<qlonglong>(r.run.id));
    }
    if (sources_.empty()) status_->setText(tr("No finished IMSM run in this workspace: train one (Run → New run…) with variant query"));
    fill_conversations();
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
}

bool ArenaView::select_run(qint64 run_id) {
  const int i = runs_->findData(QVariant::fromValue<qlonglong>(run_id));
  if (i >= 0) runs_->setCurrentIndex(i);
  return i >= 0;
}

void ArenaView::set_message(const QString& text) { message_->setPlainText(text); }

void ArenaView::set_settings(bool greedy, double temperature, double top_p, int max_new_tokens) {
  greedy_->setChecked(greedy);
  temperature_->setValue(temperature);
  top_p_->setValue(top_p);
  max_new_->setValue(max_new_tokens);
}

ArenaRequest ArenaView::request() const {
  ArenaRequest r;
  r.messages = conversation_;
  r.messages.push_back({"user", message_->toPlainText().toStdString()});
  r.chat_template = template_->text().trimmed().toStdString();
  r.max_new_tokens = max_new_->value();
  r.temperature = greedy_->isChecked() ? 0.0 : temperature_->value();
  r.top_p = greedy_->isChecked() ? 1.0 : top_p_->value();
  return r;
}

void ArenaView::send() {
  const auto source = sources_.find(runs_->currentData().toLongLong());
  if (source == sources_.end() || watcher_.isRunning() || message_->toPlainText().trimmed().isEmpty()) {
    status_->setText(source == sources_.end() ? tr("Choose an IMSM run to talk to") : tr("Write a message first"));
    if (!watcher_.isRunning()) emit answered(false, status_->text());
    return;
  }
  std::string note;
  const ModelSource where = runnable_here(source->second, &note);
  last_request_ = request();
  show_conversation(last_request_.messages);  // with the message being answered
  stream_ = std::make_shared<ArenaStream>();  // a fresh one: a stopped turn's thread may still hold the old
  shown_version_ = 0;
  for (QTextBrowser* a : answers_) a->clear();
  for (QPushButton* b : continue_) b->setEnabled(false);
  send_->setEnabled(false);
  stop_->setEnabled(true);
  status_->setText(loaded_ ? tr("Answering…") : tr("Loading %1…").arg(QFileInfo(QString::fromStdString(where.model_dir)).fileName()));
  std::shared_ptr<LoadedModel> loaded = loaded_ && loaded_->source == where ? loaded_ : nullptr;
  loaded_.reset();
  redraw_timer_.start();
  watcher_.setFuture(QtConcurrent::run([r = last_request_, where, loaded, stream = stream_]() mutable {
    ArenaOutcome out;
    try {
      if (!loaded) loaded = load_model(where);
      out.loaded = loaded;
      Hooks hooks;
      hooks.should_abort = [stream] { return stream->abort.load(); };
      out.turn = answer_in_arena(*loaded, r, [stream](ArenaSide side, const std::string& text) {
        const std::lock_guard<std::mutex> lock(stream->mu);
        stream->text[index_of(side)] += text;
        ++stream->version;
      }, hooks);
    } catch (const std::exception& e) {
      out.error = QString::fromUtf8(e.what());
    }
    return out;
  }));
}

void ArenaView::stop() { stream_->abort = true; }

void ArenaView::redraw() {
  std::array<std::string, 3> text;
  {
    const std::lock_guard<std::mutex> lock(stream_->mu);
    if (stream_->version == shown_version_) return;
    shown_version_ = stream_->version;
    text = stream_->text;
  }
  for (size_t i = 0; i < 3; ++i)
    if (answers_[i]->toPlainText().toStdString() != text[i]) answers_[i]->setPlainText(QString::fromStdString(text[i]));
}

void ArenaView::finish() {
  redraw_timer_.stop();
  redraw();
  ArenaOutcome out = watcher_.result();
  loaded_ = out.loaded;
  send_->setEnabled(true);
  stop_->setEnabled(false);
  if (!out.error.isEmpty()) {
    status_->setText(out.error);
    emit answered(false, out.error);
    return;
  }
  turn_ = std::move(out.turn);
  saved_.push_back(saved_turn(last_request_, turn_));
  show_answers(saved_.back());
  export_->setEnabled(true);
  status_->setText(QString::fromStdString(turn_.chat_format));
  save();
  emit answered(true, status_->text());
}

void ArenaView::continue_with(ArenaSide side) {
  if (saved_.empty()) return;
  saved_.back().continued_with = arena_side_name(side);
  conversation_ = agreed_messages({last_request_, saved_});
  message_->clear();
  for (QPushButton* b : continue_) b->setEnabled(false);
  show_conversation(conversation_);
  save();
}

void ArenaView::show_conversation(const std::vector<ChatMessage>& messages) {
  QString html;
  for (const ChatMessage& m : messages)
    html += QString("<p><b>%1</b>: %2</p>").arg(QString::fromStdString(m.role), QString::fromStdString(m.content).toHtmlEscaped());
  history_->setHtml(html);
}

QString ArenaView::answer_text(ArenaSide side) const { return answers_[index_of(side)]->toPlainText(); }

QString ArenaView::token_details(int index) const {
  for (const ArenaAnswer& a : turn_.answers)
    if (a.side == ArenaSide::Imsm && index >= 0 && index < static_cast<int>(a.result.trace.size()))
      return token_details_html(a.result.trace[static_cast<size_t>(index)], index);
  return {};
}

void ArenaView::hover_token(const QUrl& url) {
  if (url.scheme() != "tok") return;
  QToolTip::showText(QCursor::pos(), token_details(url.path().toInt()), answers_[index_of(ArenaSide::Imsm)]);
}

QString ArenaView::markdown() const {
  const auto source = sources_.find(run_id());
  if (saved_.empty() || source == sources_.end()) return {};
  return QString::fromStdString(arena_conversation_markdown(source->second, {last_request_, saved_}));
}

qint64 ArenaView::run_id() const { return runs_->currentData().toLongLong(); }

void ArenaView::save() {
  try {
    store::Workspace ws(workspace_.toStdString());
    const std::string first = saved_.front().messages.empty() ? "" : saved_.front().messages.back().content;
    const QString title = QString::fromStdString(first).simplified().left(60);
    conversation_id_ = ws.save_conversation({conversation_id_, run_id(), title.toStdString(), arena_settings_json(last_request_),
                                             arena_turns_json(saved_), "", ""});
    fill_conversations();
  } catch (const std::exception& e) {
    status_->setText(tr("Not saved: %1").arg(QString::fromUtf8(e.what())));
  }
}

void ArenaView::fill_conversations() {
  conversations_->clear();
  if (workspace_.isEmpty() || run_id() == 0) return;
  try {
    const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    const auto saved = ws.conversations(run_id());
    for (auto c = saved.rbegin(); c != saved.rend(); ++c)
      conversations_->addItem(QString("%1 · %2").arg(QString::fromStdString(c->updated_at).left(16).replace('T', ' '),
                                                      QString::fromStdString(c->title)),
                              QVariant::fromValue<qlonglong>(c->id));
    conversations_->setCurrentIndex(conversations_->findData(QVariant::fromValue<qlonglong>(conversation_id_)));
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
}

bool ArenaView::open_conversation(qint64 id) {
  try {
    const store::Workspace ws(workspace_.toStdString(), store::Workspace::Mode::ReadOnly);
    for (const store::ConversationRecord& r : ws.conversations(run_id())) {
      if (r.id != id) continue;
      const ArenaConversation c = read_arena_conversation(r.settings_json, r.turns_json, "conversation " + std::to_string(id));
      conversation_id_ = id;
      saved_ = c.turns;
      last_request_ = c.settings;
      last_request_.messages = saved_.empty() ? std::vector<ChatMessage>{} : saved_.back().messages;
      turn_ = {};
      conversation_ = agreed_messages(c);
      set_settings(c.settings.temperature == 0, c.settings.temperature > 0 ? c.settings.temperature : temperature_->value(), c.settings.top_p,
                   static_cast<int>(c.settings.max_new_tokens));
      template_->setText(QString::fromStdString(c.settings.chat_template));
      show_conversation(saved_.empty() || !saved_.back().continued_with.empty() ? conversation_ : last_request_.messages);
      if (!saved_.empty()) show_answers(saved_.back());
      export_->setEnabled(!saved_.empty());
      status_->setText(tr("Conversation %1: %2 turns").arg(id).arg(saved_.size()));
      return true;
    }
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
  }
  return false;
}

void ArenaView::new_conversation() {
  conversation_id_ = 0;
  saved_.clear();
  conversation_.clear();
  turn_ = {};
  for (QTextBrowser* a : answers_) a->clear();
  for (QPushButton* b : continue_) b->setEnabled(false);
  history_->clear();
  export_->setEnabled(false);
}

void ArenaView::show_answers(const ArenaSavedTurn& turn) {
  for (const ArenaSide side : arena_sides()) {
    QTextBrowser* view = answers_[index_of(side)];
    if (side == ArenaSide::Imsm)
      view->setHtml("<div style='white-space: pre-wrap;'>" + gate_tokens_html(turn.imsm_tokens) + "</div>");
    else
      view->setPlainText(QString::fromStdString(turn.answers[index_of(side)]));
    continue_[index_of(side)]->setEnabled(turn.continued_with.empty());
  }
}

bool ArenaView::export_markdown(const QString& path, QString* error) {
  try {
    if (markdown().isEmpty()) throw std::runtime_error("no turn to export yet: send a message first");
    json::write_text_atomically(path.toStdString(), markdown().toStdString());
    status_->setText(tr("The turn in Markdown: %1").arg(path));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

}  // namespace imsm::ui
