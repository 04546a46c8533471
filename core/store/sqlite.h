// A small RAII layer over SQLite: one connection, prepared statements with
// bound parameters only (no SQL is ever built from values), transactions that
// roll back unless committed. Errors are imsm::Error naming the database file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace imsm::sql {

struct Null {};

class Statement;

class Database {
 public:
  // Opens (read_only: never creates, never writes) with a busy timeout, so a
  // writer in another process makes this one wait instead of failing.
  Database(const std::string& path, bool read_only, int busy_timeout_ms = 10000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);  // statements without parameters (schema, PRAGMA)
  Statement prepare(const std::string& sql);
  int64_t last_insert_rowid() const;
  int64_t changes() const;
  bool has_table(const std::string& name);  // an older workspace opened read-only lacks the newer tables
  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  [[noreturn]] void fail(const std::string& what) const;  // throws with SQLite's message

  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  bool read_only_ = false;
};

class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based as in SQLite; bind() returns *this for chaining.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, const char* value) { return bind(index, std::string(value)); }
  Statement& bind(int index, Null);
  // NULL when `null`, else the value (a value the workspace stores as "none": a diverged loss, no parent run).
  template <typename T>
  Statement& bind_or_null(int index, const T& value, bool null) {
    return null ? bind(index, Null{}) : bind(index, value);
  }
  Statement& bind_blob(int index, const void* data, size_t bytes);

  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  bool step();       // true: a row is ready
  void run();        // steps to the end (INSERT/UPDATE/DELETE)
  void reset();      // ready to run again with new bindings

  bool is_null(int column) const;
  int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::vector<uint8_t> blob(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; the destructor rolls back an uncommitted one.
// IMMEDIATE takes the write lock up front, so a busy database waits at BEGIN
// (busy timeout) instead of failing half-way.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace imsm::sql
