#include "store/schema.h"

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace imsm::store {

namespace {

// migrations[i] takes a database from version i to i + 1. Never edit a
// released entry: add the next one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  architecture TEXT,
  parameters INTEGER,
  added_at TEXT NOT NULL);
CREATE TABLE datasets(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  examples INTEGER,
  added_at TEXT NOT NULL,
  UNIQUE(path, sha256));
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK(kind IN ('train', 'eval')),
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('queued', 'running', 'finished', 'failed', 'diverged', 'cancelled', 'interrupted')),
  model_id INTEGER REFERENCES models(id),
  dataset_id INTEGER REFERENCES datasets(id),
  parent_run_id INTEGER REFERENCES runs(id),
  config_json TEXT NOT NULL,
  seed INTEGER,
  device TEXT,
  engine_version TEXT NOT NULL,
  output_dir TEXT,
  last_checkpoint TEXT,
  message TEXT,
  host TEXT,
  pid INTEGER,
  pid_start TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE train_metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  loss REAL,
  learning_rate REAL,
  grad_norm REAL,
  tokens_per_second REAL,
  PRIMARY KEY(run_id, step)) WITHOUT ROWID;
CREATE TABLE evaluations(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id),
  benchmark TEXT NOT NULL,
  task TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  examples INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE(run_id, benchmark, metric));
CREATE TABLE predictions(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  benchmark TEXT NOT NULL,
  example_index INTEGER NOT NULL,
  input TEXT NOT NULL,
  golds_json TEXT NOT NULL,
  answer TEXT NOT NULL,
  UNIQUE(run_id, benchmark, example_index));
CREATE TABLE gate_traces(
  prediction_id INTEGER NOT NULL REFERENCES predictions(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  token_id INTEGER NOT NULL,
  piece TEXT NOT NULL,
  gate_mean REAL,
  gate_f16 BLOB,
  PRIMARY KEY(prediction_id, position)) WITHOUT ROWID;
CREATE TABLE artifacts(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE(run_id, path));
)sql",
    // 1 -> 2: the mean IMSM gate on the run's probe examples, at the steps it was measured (NULL elsewhere)
    R"sql(
ALTER TABLE train_metrics ADD COLUMN gate_mean REAL;
)sql",
    // 2 -> 3: evaluations during training (the held-out set, retention benchmarks), per step
    R"sql(
CREATE TABLE validation_metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  benchmark TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL,
  UNIQUE(run_id, step, benchmark, metric));
)sql",
    // 3 -> 4: the machine's load while a run ran (the resource monitor, about once a second), and each GPU's
    R"sql(
CREATE TABLE resource_samples(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seconds REAL NOT NULL,
  cpu_percent REAL NOT NULL,
  rss_bytes INTEGER NOT NULL,
  host_used_bytes INTEGER NOT NULL,
  host_total_bytes INTEGER NOT NULL,
  gpu_problem TEXT);
CREATE INDEX resource_samples_run ON resource_samples(run_id, seconds);
CREATE TABLE gpu_samples(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seconds REAL NOT NULL,
  gpu_index INTEGER NOT NULL,
  name TEXT NOT NULL,
  utilization_percent REAL NOT NULL,
  memory_used_bytes INTEGER NOT NULL,
  memory_total_bytes INTEGER NOT NULL,
  temperature_c REAL,
  power_w REAL);
CREATE INDEX gpu_samples_run ON gpu_samples(run_id, seconds);
)sql",
    // 4 -> 5: chat-arena conversations with a run (the turns and settings as the arena writes them, JSON)
    R"sql(
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  settings_json TEXT NOT NULL,
  turns_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX conversations_run ON conversations(run_id, id);
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == kSchemaVersion, "one migration per schema version");

int pragma_int(sql::Database& db, const char* pragma) {
  auto st = db.prepare(std::string("PRAGMA ") + pragma);
  return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

bool has_tables(sql::Database& db) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  return st.step() && st.int64(0) > 0;
}

// sqlite_master, one line per table, index and trigger: what a workspace's schema is.
std::vector<std::string> schema_rows(sql::Database& db) {
  std::vector<std::string> rows;
  auto st = db.prepare("SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_master "
                       "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name");  // ANALYZE's statistics are no change
  while (st.step()) rows.push_back(st.text(0));
  return rows;
}

// The schema of version v, as the first v migrations make it in a fresh database (once per process).
const std::vector<std::string>& expected_schema(int version) {
  static std::array<std::vector<std::string>, kSchemaVersion + 1> schemas;
  static std::once_flag once;
  std::call_once(once, [] {
    sql::Database fresh(":memory:", false, 0);
    for (int v = 0; v <= kSchemaVersion; ++v) {
      if (v > 0) fresh.exec(kMigrations[v - 1]);
      schemas[static_cast<size_t>(v)] = schema_rows(fresh);
    }
  });
  return schemas.at(static_cast<size_t>(version));
}

// A workspace whose tables are not those of its version (damaged, or changed
// by another program) is refused before anything reads or writes it: later
// statements could fail on it in ways that look like the engine's bugs.
void check_schema(sql::Database& db, int version) {
  const std::vector<std::string> have = schema_rows(db);
  const std::vector<std::string>& want = expected_schema(version);
  if (have == want) return;
  size_t i = 0;
  while (i < have.size() && i < want.size() && have[i] == want[i]) ++i;
  const std::string& differing = i < want.size() ? want[i] : have[i];
  throw_bad_input(db.path(), "its tables are not those of workspace schema version " + std::to_string(version) + " (\"" +
                                 differing.substr(0, differing.find(':')) + "\" differs): it was damaged or changed by another program");
}

}  // namespace

int check_version(sql::Database& db) {
  const int app = pragma_int(db, "application_id");  // also the first read: a non-SQLite file fails here
  const int version = pragma_int(db, "user_version");
  if (app != kApplicationId && (app != 0 || has_tables(db)))
    throw_bad_input(db.path(), "not an IMSM workspace (an SQLite database of another application): give a new file name or an .imsm workspace");
  if (version > kSchemaVersion)
    throw_bad_input(db.path(), "workspace schema version " + std::to_string(version) + " is newer than this imsm understands (" +
                                   std::to_string(kSchemaVersion) + "): update IMSM Workbench to open it");
  if (version < 0) throw_bad_input(db.path(), "workspace schema version " + std::to_string(version) + " is not one: the file is damaged");
  try {
    check_schema(db, version);
  } catch (const Error&) {  // another process may have migrated it between the two reads
    const int now = pragma_int(db, "user_version");
    if (now == version || now < 0 || now > kSchemaVersion) throw;
    check_schema(db, now);
    return now;
  }
  return version;
}

void migrate(sql::Database& db) {
  sql::Transaction tx(db);  // re-checked under the write lock: another process may have migrated meanwhile
  int version = check_version(db);
  if (version == kSchemaVersion) return;
  for (; version < kSchemaVersion; ++version) db.exec(kMigrations[version]);
  db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  tx.commit();
}

}  // namespace imsm::store
