#include "store/workspace.h"

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "store/schema.h"
#include "store/sqlite.h"
#include "util/error.h"
#include "util/half.h"
#include "util/process.h"
#include "util/sha256.h"

namespace fs = std::filesystem;

namespace imsm::store {

namespace {
std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

}  // namespace

Workspace::Workspace(const std::string& path, Mode mode) : path_(path) {
  if (fs::is_directory(path)) throw_bad_input(path, "is a folder: give the workspace file's name (e.g. workspace.imsm)");
  if (mode == Mode::ReadOnly && !fs::exists(path)) throw_bad_input(path, "no such workspace");
  db_ = std::make_unique<sql::Database>(path, mode == Mode::ReadOnly);
  // Checked before anything is written: a file of another application stays untouched.
  check_version(*db_);
  if (mode == Mode::ReadOnly) return;
  db_->exec("PRAGMA journal_mode = WAL");   // readers never block the writer, nor it them
  db_->exec("PRAGMA synchronous = NORMAL");  // WAL + NORMAL: a committed row survives a crash of the process
  db_->exec("PRAGMA foreign_keys = ON");
  migrate(*db_);
  mark_interrupted();
}

Workspace::~Workspace() = default;

int64_t Workspace::add_model(const std::string& path, const std::string& architecture, int64_t parameters) {
  const std::string abs = absolute_path(path);
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT INTO models(path, name, architecture, parameters, added_at) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(path) DO UPDATE SET architecture = coalesce(nullif(excluded.architecture, ''), architecture), "
      "parameters = coalesce(nullif(excluded.parameters, 0), parameters)");
  st.bind_all(abs, fs::path(abs).filename().string(), architecture, parameters, utc_now_iso8601()).run();
  auto id = db_->prepare("SELECT id FROM models WHERE path = ?1");
  id.bind(1, abs);
  id.step();
  const int64_t out = id.int64(0);
  tx.commit();
  return out;
}

int64_t Workspace::add_dataset(const std::string& path, int64_t examples) {
  const std::string abs = absolute_path(path);
  const std::string digest = sha256_file(abs);
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT INTO datasets(path, name, sha256, examples, added_at) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(path, sha256) DO UPDATE SET examples = coalesce(nullif(excluded.examples, 0), examples)");
  st.bind_all(abs, fs::path(abs).stem().string(), digest, examples, utc_now_iso8601()).run();
  auto id = db_->prepare("SELECT id FROM datasets WHERE path = ?1 AND sha256 = ?2");
  id.bind_all(abs, digest);
  id.step();
  const int64_t out = id.int64(0);
  tx.commit();
  return out;
}

int64_t Workspace::create_run(const NewRun& r) {
  if (r.kind != "train" && r.kind != "eval") throw_internal("run kind must be train or eval, not " + r.kind);
  const int64_t model_id = r.model_path.empty() ? 0 : add_model(r.model_path);
  const int64_t dataset_id = r.dataset_path.empty() ? 0 : add_dataset(r.dataset_path);
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT INTO runs(kind, name, status, model_id, dataset_id, parent_run_id, config_json, seed, device, engine_version, "
      "output_dir, created_at) VALUES(?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  st.bind(1, r.kind).bind(2, r.name);
  st.bind_or_null(3, model_id, model_id == 0);
  st.bind_or_null(4, dataset_id, dataset_id == 0);
  st.bind_or_null(5, r.parent_run_id, r.parent_run_id == 0);
  st.bind(6, r.config_json).bind(7, static_cast<int64_t>(r.seed)).bind(8, r.device).bind(9, std::string(IMSM_VERSION));
  st.bind_or_null(10, r.output_dir.empty() ? std::string() : absolute_path(r.output_dir), r.output_dir.empty());
  st.bind(11, utc_now_iso8601());
  st.run();
  const int64_t id = db_->last_insert_rowid();
  tx.commit();
  return id;
}

void Workspace::start_run(int64_t run_id) {
  const ProcessIdentity me = current_process();
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "UPDATE runs SET status = 'running', host = ?2, pid = ?3, pid_start = ?4, message = NULL, ended_at = NULL, "
      "started_at = coalesce(started_at, ?5) WHERE id = ?1");
  st.bind_all(run_id, me.host, me.pid, me.start, utc_now_iso8601()).run();
  if (db_->changes() != 1) throw_bad_input("run " + std::to_string(run_id), "no such run in " + path_);
  tx.commit();
}

void Workspace::finish_run(int64_t run_id, RunStatus status, const std::string& message) {
  if (!is_final(status)) throw_internal(std::string("finish_run: ") + status_name(status) + " is not a final status");
  sql::Transaction tx(*db_);
  auto st = db_->prepare("UPDATE runs SET status = ?2, message = ?3, ended_at = ?4 WHERE id = ?1");
  st.bind_all(run_id, std::string(status_name(status)), message, utc_now_iso8601()).run();
  tx.commit();
}

void Workspace::set_checkpoint(int64_t run_id, const std::string& path) {
  sql::Transaction tx(*db_);
  auto st = db_->prepare("UPDATE runs SET last_checkpoint = ?2 WHERE id = ?1");
  st.bind_all(run_id, absolute_path(path)).run();
  tx.commit();
}

void Workspace::add_train_metrics(int64_t run_id, const std::vector<StepRecord>& rows) {
  if (rows.empty()) return;
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO train_metrics(run_id, step, epoch, loss, learning_rate, grad_norm, tokens_per_second, gate_mean) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (const auto& m : rows) {
    st.bind_all(run_id, m.step, m.epoch);
    st.bind_or_null(4, m.loss, !std::isfinite(m.loss));  // a diverged step is NULL, not a bogus number
    st.bind(5, m.learning_rate);
    st.bind_or_null(6, m.grad_norm, !std::isfinite(m.grad_norm));
    st.bind(7, m.tokens_per_second);
    st.bind_or_null(8, m.gate_mean, !(m.gate_mean >= 0));
    st.run();
  }
  tx.commit();
}

void Workspace::add_validation(int64_t run_id, const std::vector<ValidationRecord>& rows) {
  if (rows.empty()) return;
  sql::Transaction tx(*db_);
  auto st = db_->prepare("INSERT OR REPLACE INTO validation_metrics(run_id, step, epoch, benchmark, metric, value) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  for (const auto& v : rows) {
    st.bind_all(run_id, v.step, v.epoch, v.benchmark, v.metric);
    st.bind_or_null(6, v.value, !std::isfinite(v.value));
    st.run();
  }
  tx.commit();
}

void Workspace::add_evaluations(int64_t run_id, const std::string& dataset_path, const std::vector<Evaluation>& rows) {
  const int64_t dataset_id = add_dataset(dataset_path);
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO evaluations(run_id, dataset_id, benchmark, task, metric, value, examples, created_at) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (const auto& e : rows) st.bind_all(run_id, dataset_id, e.benchmark, e.task, e.metric, e.value, e.examples, utc_now_iso8601()).run();
  tx.commit();
}

void Workspace::add_predictions(int64_t run_id, const std::string& benchmark, const std::vector<Prediction>& rows) {
  sql::Transaction tx(*db_);
  auto pred = db_->prepare(
      "INSERT OR REPLACE INTO predictions(run_id, benchmark, example_index, input, golds_json, answer) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  auto tok = db_->prepare(
      "INSERT OR REPLACE INTO gate_traces(prediction_id, position, token_id, piece, gate_mean, gate_f16) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  // A re-run of the same example replaces it and its trace.
  auto drop_trace = db_->prepare(
      "DELETE FROM gate_traces WHERE prediction_id IN "
      "(SELECT id FROM predictions WHERE run_id = ?1 AND benchmark = ?2 AND example_index = ?3)");
  for (const auto& p : rows) {
    drop_trace.bind_all(run_id, benchmark, p.example_index).run();
    pred.bind_all(run_id, benchmark, p.example_index, p.input, nlohmann::json(p.golds).dump(), p.answer).run();
    const int64_t pid = db_->last_insert_rowid();
    for (size_t i = 0; i < p.tokens.size(); ++i) {
      const auto& t = p.tokens[i];
      tok.bind_all(pid, static_cast<int64_t>(i), static_cast<int64_t>(t.id), t.piece);
      tok.bind_or_null(5, static_cast<double>(t.gate_mean), t.gate_mean < 0);
      if (t.gate.empty()) {
        tok.bind(6, sql::Null{});
      } else {
        const auto bytes = to_half_bytes(t.gate);
        tok.bind_blob(6, bytes.data(), bytes.size());
      }
      tok.run();
    }
  }
  tx.commit();
}

int64_t Workspace::save_conversation(const ConversationRecord& c) {
  sql::Transaction tx(*db_);
  auto run = db_->prepare("SELECT count(*) FROM runs WHERE id = ?1");
  run.bind(1, c.run_id);
  if (!run.step() || run.int64(0) == 0) throw_bad_input("run " + std::to_string(c.run_id), "no such run in " + path_);
  const std::string now = utc_now_iso8601();
  int64_t id = c.id;
  if (id == 0) {
    db_->prepare("INSERT INTO conversations(run_id, title, settings_json, turns_json, created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?5)")
        .bind_all(c.run_id, c.title, c.settings_json, c.turns_json, now)
        .run();
    id = db_->last_insert_rowid();
  } else {
    db_->prepare("UPDATE conversations SET title = ?2, settings_json = ?3, turns_json = ?4, updated_at = ?5 WHERE id = ?1 AND run_id = ?6")
        .bind_all(id, c.title, c.settings_json, c.turns_json, now, c.run_id)
        .run();
    if (db_->changes() != 1) throw_bad_input("conversation " + std::to_string(id), "no such conversation of run " + std::to_string(c.run_id) + " in " + path_);
  }
  tx.commit();
  return id;
}

void Workspace::add_artifact(int64_t run_id, const std::string& kind, const std::string& path) {
  std::vector<std::string> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file()) files.push_back(absolute_path(e.path().string()));
  } else {
    files.push_back(absolute_path(path));
  }
  std::vector<std::pair<std::string, int64_t>> digests;  // hashed before the write lock is taken
  for (const auto& f : files) digests.emplace_back(sha256_file(f), static_cast<int64_t>(fs::file_size(f)));
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO artifacts(run_id, kind, path, sha256, bytes, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  for (size_t i = 0; i < files.size(); ++i)
    st.bind_all(run_id, kind, files[i], digests[i].first, digests[i].second, utc_now_iso8601()).run();
  tx.commit();
}

std::vector<int64_t> Workspace::mark_interrupted() {
  const std::string host = current_process().host;
  std::vector<int64_t> dead;
  {
    auto st = db_->prepare("SELECT id, host, pid, pid_start FROM runs WHERE status = 'running'");
    while (st.step()) {
      ProcessIdentity p{st.text(1), st.int64(2), st.text(3)};
      if (p.host == host && !process_alive(p)) dead.push_back(st.int64(0));  // another host's runs: cannot tell
    }
  }
  if (dead.empty()) return dead;
  sql::Transaction tx(*db_);
  auto st = db_->prepare(
      "UPDATE runs SET status = 'interrupted', ended_at = ?2, "
      "message = 'the process running it stopped (killed or crashed); resume with: imsm runs resume ' || ?1 "
      "WHERE id = ?1 AND status = 'running'");
  for (int64_t id : dead) st.bind_all(id, utc_now_iso8601()).run();
  tx.commit();
  return dead;
}

}  // namespace imsm::store
