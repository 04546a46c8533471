#include "store/sqlite.h"

#include <sqlite3.h>

#include "util/error.h"

namespace imsm::sql {

namespace {
// SQLITE_ERROR is also our own SQL's; these messages are the file's (a damaged
// or foreign database whose header passed): found by fuzz_workspace.
bool file_caused(const std::string& msg) {
  for (const char* start : {"no such table", "no such column", "unsupported file format", "malformed database schema"})
    if (msg.rfind(start, 0) == 0) return true;
  return false;
}
}  // namespace

Database::Database(const std::string& path, bool read_only, int busy_timeout_ms) : path_(path), read_only_(read_only) {
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw_bad_input(path, "cannot open the workspace: " + msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  sqlite3_extended_result_codes(db_, 1);
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::fail(const std::string& what) const {
  const int code = sqlite3_errcode(db_);
  const std::string msg = std::string(sqlite3_errmsg(db_));
  if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT)
    throw_bad_input(path_, "not a workspace (" + msg + "): open an IMSM workspace file or give a new path");
  if ((code & 0xff) == SQLITE_NOMEM)  // damaged records claim sizes SQLite cannot allocate (fuzz_workspace)
    throw_bad_input(path_, what + ": SQLite ran out of memory reading it: the file is damaged (or the machine is out of memory)");
  if (code == SQLITE_CONSTRAINT_FOREIGNKEY)  // our writes refer to rows they made; the file's own rows did not (fuzz_workspace)
    throw_bad_input(path_, what + ": " + msg + ": rows of the workspace refer to rows that are not there (damaged; "
                                                 "`sqlite3 FILE 'PRAGMA foreign_key_check'` lists them)");
  if ((code & 0xff) == SQLITE_ERROR && file_caused(msg))
    throw_bad_input(path_, "not a complete workspace (" + msg + "): it was damaged, or made by another program");
  if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_FULL ||
      (code & 0xff) == SQLITE_IOERR)
    throw_bad_input(path_, what + ": " + msg);
  throw_internal(path_ + ": " + what + ": " + msg);
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail("SQL failed");
  }
}

Statement Database::prepare(const std::string& sql) { return Statement(*this, sql); }
int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
bool Database::has_table(const std::string& name) {
  Statement st = prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
  st.bind(1, name);
  return st.step() && st.int64(0) > 0;
}

int64_t Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Database& db, const std::string& sql) : db_(&db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) db.fail("cannot prepare SQL");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }
Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

namespace {
void check_bind(Database& db, int rc) {
  if (rc != SQLITE_OK) db.fail("cannot bind a parameter");
}
}  // namespace

Statement& Statement::bind(int index, int64_t value) {
  check_bind(*db_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, double value) {
  check_bind(*db_, sqlite3_bind_double(stmt_, index, value));
  return *this;
}
Statement& Statement::bind(int index, const std::string& value) {
  check_bind(*db_, sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::bind(int index, Null) {
  check_bind(*db_, sqlite3_bind_null(stmt_, index));
  return *this;
}
Statement& Statement::bind_blob(int index, const void* data, size_t bytes) {
  check_bind(*db_, sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("SQL step failed");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}
std::vector<uint8_t> Statement::blob(int column) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, column)) : std::vector<uint8_t>();
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace imsm::sql
