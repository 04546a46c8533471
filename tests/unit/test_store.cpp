// The SQLite workspace: schema and versioning, refusal of foreign files, bound
// parameters, run lifecycle and interruption, traces, concurrent reading.
// Expected values come from SQLite itself (raw queries beside the API), from
// hand-computed float16 bit patterns and from FIPS 180-4 / sha256sum.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <thread>

#include "store/workspace.h"
#include "test_util.h"
#include "../fuzz/workspace_writes.h"
#include "util/half.h"
#include "util/sha256.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;
namespace store = imsm::store;

namespace {

// An independent view of the file through the raw SQLite API.
struct Raw {
  sqlite3* db = nullptr;
  explicit Raw(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~Raw() { sqlite3_close(db); }
  std::string text(const std::string& q) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  void exec(const std::string& q) { EXPECT_EQ(sqlite3_exec(db, q.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db); }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t dead_pid() {  // a pid that existed and is gone
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

// A training run with an empty configuration: the rows these tests write under it are what they check.
store::NewRun train_run(const std::string& name) {
  store::NewRun r;
  r.kind = "train";
  r.name = name;
  r.config_json = "{}";
  return r;
}

}  // namespace

TEST(Half, HandComputedBitPatterns) {
  EXPECT_EQ(imsm::float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(imsm::float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(imsm::float_to_half(0.1f), 0x2e66);             // 0.0999755859375, nearest
  EXPECT_EQ(imsm::float_to_half(1.0f / 3.0f), 0x3555);
  EXPECT_EQ(imsm::float_to_half(65504.0f), 0x7bff);         // largest finite
  EXPECT_EQ(imsm::float_to_half(65520.0f), 0x7c00);         // halfway to 2^16 rounds to inf
  EXPECT_EQ(imsm::float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(imsm::float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie: to even (0)
  EXPECT_EQ(imsm::float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp: tie to even (2)
  EXPECT_EQ(imsm::float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie at 1 + 2^-11: even mantissa
  EXPECT_EQ(imsm::float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie at 1 + 3*2^-11: up to even
  EXPECT_TRUE(std::isnan(imsm::half_to_float(imsm::float_to_half(NAN))));
  // Every finite half converts to float and back unchanged.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    ASSERT_EQ(imsm::float_to_half(imsm::half_to_float(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
}

TEST(Sha256, FipsVectorsAndSha256sum) {
  EXPECT_EQ(imsm::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(imsm::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(imsm::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(imsm::sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  TempDir dir;
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes += static_cast<char>((i * 7919) % 251);
  write_file(dir.file("blob"), bytes);
  FILE* p = popen(("sha256sum " + dir.file("blob")).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char out[65] = {0};
  ASSERT_EQ(fread(out, 1, 64, p), 64u);
  pclose(p);
  EXPECT_EQ(imsm::sha256_file(dir.file("blob")), std::string(out));
}

TEST(Workspace, CreatesVersionedWalDatabase) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  { store::Workspace ws(path); }
  Raw raw(path);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "5");
  EXPECT_EQ(raw.text("PRAGMA application_id"), std::to_string(0x494d534d));
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  for (const char* t : {"models", "datasets", "runs", "train_metrics", "evaluations", "predictions", "gate_traces", "artifacts", "validation_metrics", "resource_samples", "gpu_samples", "conversations"})
    EXPECT_EQ(raw.text(std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") + t + "'"), "1") << t;
  store::Workspace again(path);  // reopening an up-to-date workspace changes nothing
  EXPECT_TRUE(again.runs().empty());
}

TEST(Workspace, RefusesFilesThatAreNotWorkspacesAndLeavesThemAlone) {
  TempDir dir;
  const std::string text = dir.file("notes.imsm");
  write_file(text, "these are my notes, not a database\n");
  expect_bad_input([&] { store::Workspace ws(text); }, {text, "not a workspace"});
  EXPECT_EQ(read_all(text), "these are my notes, not a database\n");

  const std::string other = dir.file("other.sqlite");
  {
    Raw raw(other);
    raw.exec("CREATE TABLE mine(x); INSERT INTO mine VALUES (42)");
  }
  const std::string before = read_all(other);
  expect_bad_input([&] { store::Workspace ws(other); }, {other, "another application"});
  EXPECT_EQ(read_all(other), before);
  EXPECT_FALSE(std::filesystem::exists(other + "-wal"));

  const std::string newer = dir.file("newer.imsm");
  { store::Workspace ws(newer); }
  { Raw(newer).exec("PRAGMA user_version = 7"); }
  expect_bad_input([&] { store::Workspace ws(newer); }, {newer, "version 7", "newer"});
  expect_bad_input([&] { store::Workspace ws(newer, store::Workspace::Mode::ReadOnly); }, {newer, "newer"});
  expect_bad_input([&] { store::Workspace ws(dir.file("missing.imsm"), store::Workspace::Mode::ReadOnly); }, {"missing.imsm", "no such workspace"});
  expect_bad_input([&] { store::Workspace ws(dir.path().string()); }, {"is a folder"});

  // fuzz_workspace's first finding: an empty file read (no tables yet) was "no such table", an internal error.
  const std::string empty = dir.file("empty.imsm");
  write_file(empty, "");
  expect_bad_input([&] { store::Workspace(empty, store::Workspace::Mode::ReadOnly).runs(); }, {empty, "not a complete workspace"});
  EXPECT_EQ(read_all(empty), "");
}

TEST(Workspace, ValuesWithQuotesSemicolonsAndNonAsciiAreBoundNotSpliced) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  const std::string evil = "run'); DROP TABLE runs; -- \"quoted\" ; Ünïcödé 量子 🚀";
  const std::string model_dir = dir.file("model'; DELETE FROM models; --");
  std::filesystem::create_directories(model_dir);
  const std::string data = dir.file("data ; 'x'.jsonl");
  write_file(data, "{\"input\": \"a\", \"output\": \"b\"}\n");
  store::Workspace ws(path);
  store::NewRun r;
  r.kind = "eval";
  r.name = evil;
  r.model_path = model_dir;
  r.dataset_path = data;
  r.config_json = R"({"note": "it's; fine"})";
  const int64_t id = ws.create_run(r);
  ws.add_evaluations(id, data, {{evil, "cola", "MCC'--", 0.25, 3, "", ""}});
  ws.add_predictions(id, evil, {{0, evil, {evil, "b"}, evil, {{5, evil, 0.5f, {}}}}});
  const auto got = ws.run(id);
  EXPECT_EQ(got.name, evil);
  EXPECT_EQ(got.model_path, std::filesystem::weakly_canonical(model_dir).string());
  EXPECT_EQ(got.config_json, r.config_json);
  EXPECT_EQ(ws.evaluations(id).at(0).benchmark, evil);
  EXPECT_EQ(ws.evaluations(id).at(0).metric, "MCC'--");
  const auto preds = ws.predictions(id, evil, false);
  ASSERT_EQ(preds.size(), 1u);
  EXPECT_EQ(preds[0].golds, (std::vector<std::string>{evil, "b"}));
  EXPECT_EQ(preds[0].tokens.at(0).piece, evil);
  Raw raw(path);
  EXPECT_EQ(raw.text("SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(raw.text("SELECT count(*) FROM models"), "1");
  // The library lists read the same rows back; a changed dataset file is a second row.
  ASSERT_EQ(ws.models().size(), 1u);
  EXPECT_EQ(ws.models()[0].path, got.model_path);
  EXPECT_EQ(ws.models()[0].name, "model'; DELETE FROM models; --");
  ASSERT_EQ(ws.datasets().size(), 1u);
  EXPECT_EQ(ws.datasets()[0].name, "data ; 'x'");
  EXPECT_EQ(ws.datasets()[0].sha256, imsm::sha256_file(data));
  write_file(data, "{\"input\": \"a\", \"output\": \"c\"}\n");
  ws.add_dataset(data, 1);
  ASSERT_EQ(ws.datasets().size(), 2u);
  EXPECT_EQ(ws.datasets()[1].examples, 1);
  EXPECT_EQ(raw.text("SELECT count(*) FROM datasets"), "2");
}

// A row another program damaged is bad input naming the workspace and what is wrong, not an
// exception from the JSON library (found by fuzz_workspace's design: golds_json is parsed on reading).
TEST(Workspace, DamagedRowsAreBadInputNamingTheWorkspace) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  store::Workspace ws(path);
  store::NewRun r;
  r.kind = "eval";
  r.name = "e";
  const int64_t id = ws.create_run(r);
  ws.add_predictions(id, "arith", {{0, "2+2", {"4"}, "4", {}}});
  ASSERT_EQ(ws.predictions(id, "arith", false).at(0).golds, std::vector<std::string>{"4"});
  Raw raw(path);
  for (const std::string golds : {"{", "[1, 2]", "\"4\""}) {
    raw.exec("UPDATE predictions SET golds_json = '" + golds + "'");
    expect_bad_input([&] { ws.predictions(id, "arith", false); }, {path, "prediction", "golds_json is not a list of strings"});
  }
  raw.exec("PRAGMA ignore_check_constraints = ON");  // as a tool that writes past the schema's CHECK would
  raw.exec("UPDATE runs SET status = 'paused'");
  expect_bad_input([&] { ws.runs(); }, {"run " + std::to_string(id), "unknown status \"paused\""});
}

// A workspace whose tables another program changed (or damage rewrote) is refused when opened, for
// reading or writing, and left as it was: statements could otherwise fail on it as if the engine had a bug.
TEST(Workspace, TablesChangedByAnotherProgramAreRefusedAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  { store::Workspace ws(path); }
  for (const std::string change : {"DROP INDEX gpu_samples_run", "CREATE TRIGGER t AFTER INSERT ON runs BEGIN SELECT 1; END",
                                   "ALTER TABLE runs ADD COLUMN note TEXT"}) {
    std::filesystem::copy_file(path, dir.file("changed.imsm"), std::filesystem::copy_options::overwrite_existing);
    { Raw raw(dir.file("changed.imsm")); raw.exec(change); }
    const std::string before = read_all(dir.file("changed.imsm"));
    for (const auto mode : {store::Workspace::Mode::ReadOnly, store::Workspace::Mode::ReadWrite})
      expect_bad_input([&] { store::Workspace ws(dir.file("changed.imsm"), mode); },
                       {"changed.imsm", "its tables are not those of workspace schema version", "another program"});
    EXPECT_EQ(read_all(dir.file("changed.imsm")), before) << change;
  }
  { Raw raw(path); raw.exec("ANALYZE"); }  // SQLite's own statistics are no change
  EXPECT_NO_THROW(store::Workspace(path, store::Workspace::Mode::ReadOnly));
}

// fuzz_workspace's input (kept in its corpus): evaluations and predictions of runs that are not
// there. Reading it works; a write SQLite refuses for those rows is bad input naming the file.
TEST(Workspace, RowsReferringToMissingRunsAreBadInputWhenWritten) {
  TempDir dir;
  const std::string path = dir.file("orphans.imsm");
  std::filesystem::copy_file(std::string(IMSM_SOURCE_DIR) + "/tests/fuzz/corpus/workspace/orphan-rows.imsm", path);
  EXPECT_EQ(store::Workspace(path, store::Workspace::Mode::ReadOnly).runs().size(), 2u);
  try {
    store::Workspace ws(path);
    imsm::fuzz::write_a_failed_run(ws);  // the target's own writes
    ADD_FAILURE() << "expected the write to be refused";
  } catch (const imsm::Error& e) {
    EXPECT_EQ(e.kind(), imsm::ErrorKind::BadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("orphans.imsm"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("refer to rows that are not there"), std::string::npos) << e.what();
  }
}

TEST(Workspace, RunLifecycleAndInterruptedRuns) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  int64_t alive = 0, dead = 0, done = 0;
  {
    store::Workspace ws(path);
    store::NewRun r = train_run("t");
    r.seed = 7;
    alive = ws.create_run(r);
    dead = ws.create_run(r);
    done = ws.create_run(r);
    EXPECT_STREQ(imsm::status_name(ws.run(alive).status), "queued");
    for (int64_t id : {alive, dead, done}) ws.start_run(id);
    EXPECT_STREQ(imsm::status_name(ws.run(alive).status), "running");
    ws.finish_run(done, imsm::RunStatus::Finished);
    EXPECT_STREQ(imsm::status_name(ws.run(done).status), "finished");
    EXPECT_FALSE(ws.run(done).ended_at.empty());
    EXPECT_EQ(ws.run(alive).seed, 7);
  }
  // `dead` now belongs to a process that has exited (as after kill -9).
  Raw(path).exec("UPDATE runs SET pid = " + std::to_string(dead_pid()) + " WHERE id = " + std::to_string(dead));
  {
    store::Workspace ro(path, store::Workspace::Mode::ReadOnly);  // a reader never changes states
    EXPECT_STREQ(imsm::status_name(ro.run(dead).status), "running");
  }
  store::Workspace ws(path);
  EXPECT_STREQ(imsm::status_name(ws.run(dead).status), "interrupted");
  EXPECT_NE(ws.run(dead).message.find("imsm runs resume " + std::to_string(dead)), std::string::npos);
  EXPECT_STREQ(imsm::status_name(ws.run(alive).status), "running");  // this process is alive
  EXPECT_STREQ(imsm::status_name(ws.run(done).status), "finished");
  ws.start_run(dead);  // resumed
  EXPECT_STREQ(imsm::status_name(ws.run(dead).status), "running");
  EXPECT_TRUE(ws.run(dead).message.empty());
  expect_bad_input([&] { ws.run(999); }, {"no run 999"});
}

// A version-1 workspace (before train_metrics.gate_mean and validation_metrics)
// opens, is migrated to version 3 in place, and keeps every row; a reader of
// the old version sees no validation rather than an error.
// Chat-arena conversations: saved with their run, replaced by id, read back in order; bad ids are refused.
TEST(Workspace, ConversationsAreSavedWithTheirRunAndReplacedById) {
  TempDir dir;
  store::Workspace ws(dir.file("ws.imsm"));
  const int64_t run = ws.create_run(train_run("lora"));
  store::ConversationRecord c{0, run, "capital of France", R"({"temperature": 0})", R"([{"user": "hi"}])", "", ""};
  const int64_t first = ws.save_conversation(c);
  c.title = "second";
  const int64_t second = ws.save_conversation(c);
  EXPECT_NE(first, second);
  c.id = first;
  c.turns_json = R"([{"user": "hi"}, {"user": "again"}])";
  EXPECT_EQ(ws.save_conversation(c), first);  // replaced, not added
  const auto saved = ws.conversations(run);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].id, first);
  EXPECT_EQ(saved[0].title, "second");
  EXPECT_EQ(saved[0].turns_json, c.turns_json);
  EXPECT_EQ(saved[1].title, "second");
  EXPECT_EQ(saved[0].created_at.size(), 20u);  // 2026-12-07T20:30:00Z
  EXPECT_TRUE(ws.conversations(run + 1).empty());
  c.run_id = run + 1;
  EXPECT_THROW(ws.save_conversation(c), imsm::Error);  // no such run
  c.run_id = run;
  c.id = 999;
  EXPECT_THROW(ws.save_conversation(c), imsm::Error);  // no such conversation
}

TEST(Workspace, MigratesVersionOneAndKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.file("v1.imsm");
  {
    store::Workspace ws(path);
    store::NewRun r = train_run("old");
    ws.add_train_metrics(ws.create_run(r), {imsm::StepRecord{.step = 1, .epoch = 0, .loss = 2.5, .learning_rate = 1e-3, .grad_norm = 0.7, .tokens_per_second = 100}, imsm::StepRecord{.step = 2, .epoch = 0, .loss = 2.0, .learning_rate = 1e-3, .grad_norm = 0.6, .tokens_per_second = 100}});
  }
  {
    Raw raw(path);  // back to what version 1 wrote
    raw.exec("ALTER TABLE train_metrics DROP COLUMN gate_mean");
    raw.exec("DROP TABLE validation_metrics");
    raw.exec("DROP TABLE resource_samples");
    raw.exec("DROP TABLE gpu_samples");
    raw.exec("DROP TABLE conversations");
    raw.exec("PRAGMA user_version = 1");
    EXPECT_EQ(raw.text("SELECT count(*) FROM pragma_table_info('train_metrics') WHERE name = 'gate_mean'"), "0");
  }
  {
    store::Workspace ro(path, store::Workspace::Mode::ReadOnly);  // a reader does not migrate
    EXPECT_EQ(ro.runs().size(), 1u);
    EXPECT_TRUE(ro.validation(1).empty());
    EXPECT_TRUE(ro.resource_samples(1).empty());
    EXPECT_EQ(ro.resource_peak(1).rss_bytes, -1);
    EXPECT_TRUE(ro.conversations(1).empty());
  }
  store::Workspace ws(path);
  Raw raw(path);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "5");
  ws.add_validation(1, {{2, 0, "held-out", "Loss", 1.5}, {2, 0, "held-out", "EM", 0.25}, {4, 1, "held-out", "Loss", NAN}});
  const auto v = ws.validation(1);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1].metric, "EM");  // as recorded within a step
  EXPECT_DOUBLE_EQ(v[1].value, 0.25);
  EXPECT_EQ(v[2].epoch, 1);
  EXPECT_TRUE(std::isnan(v[2].value));  // a diverged loss is NULL, read back as NaN
  const auto m = ws.train_metrics(1);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[1].loss, 2.0);
  EXPECT_DOUBLE_EQ(m[1].gate_mean, -1);
  EXPECT_EQ(ws.run(1).name, "old");
}

TEST(Workspace, MetricsPredictionsTracesAndArtifactsRoundTrip) {
  TempDir dir;
  store::Workspace ws(dir.file("ws.imsm"));
  store::NewRun r = train_run("t");
  const int64_t id = ws.create_run(r);
  ws.add_train_metrics(id, {imsm::StepRecord{.step = 1, .epoch = 0, .loss = 2.5, .learning_rate = 1e-3, .grad_norm = 0.7, .tokens_per_second = 100}, imsm::StepRecord{.step = 2, .epoch = 0, .loss = NAN, .learning_rate = 1e-3, .grad_norm = INFINITY, .tokens_per_second = 90}});
  ws.add_train_metrics(id, {imsm::StepRecord{.step = 2, .epoch = 0, .loss = 2.25, .learning_rate = 1e-3, .grad_norm = 0.5, .tokens_per_second = 95}});  // a resumed run rewrites its step
  const auto m = ws.train_metrics(id);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[0].loss, 2.5);
  EXPECT_DOUBLE_EQ(m[1].loss, 2.25);
  ws.add_train_metrics(id, {imsm::StepRecord{.step = 3, .epoch = 1, .loss = NAN, .learning_rate = 1e-3, .grad_norm = NAN, .tokens_per_second = 90}});
  EXPECT_TRUE(std::isnan(ws.train_metrics(id).at(2).loss));  // stored as NULL
  // The gate probe's mean where it was measured; NULL (read as -1) elsewhere.
  ws.add_train_metrics(id, {imsm::StepRecord{.step = 4, .epoch = 1, .loss = 2.0, .learning_rate = 1e-3, .grad_norm = 0.5, .tokens_per_second = 90, .gate_mean = 0.625}});
  EXPECT_DOUBLE_EQ(ws.train_metrics(id).at(3).gate_mean, 0.625);
  EXPECT_DOUBLE_EQ(ws.train_metrics(id).at(0).gate_mean, -1);
  {
    Raw raw(dir.file("ws.imsm"));
    EXPECT_EQ(raw.text("SELECT count(*) FROM train_metrics WHERE gate_mean IS NULL"), "3");
  }

  std::vector<float> gate = {0.0f, 0.25f, 0.5f, 0.999f, 1.0f / 3.0f};
  ws.add_predictions(id, "b", {{0, "in", {"g"}, "ans", {{1, "a", 0.4f, gate}, {2, "b", -1.f, {}}}}});
  ws.add_predictions(id, "b", {{0, "in", {"g"}, "ans2", {{3, "c", 0.6f, {}}}}});  // replaced with its trace
  auto p = ws.predictions(id, "b", true);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].answer, "ans2");
  ASSERT_EQ(p[0].tokens.size(), 1u);
  ws.add_predictions(id, "b", {{1, "in", {"g"}, "x", {{1, "a", 0.4f, gate}, {2, "b", -1.f, {}}}}});
  p = ws.predictions(id, "b", true);
  ASSERT_EQ(p.at(1).tokens.size(), 2u);
  EXPECT_FLOAT_EQ(p[1].tokens[0].gate_mean, 0.4f);
  EXPECT_LT(p[1].tokens[1].gate_mean, 0);
  ASSERT_EQ(p[1].tokens[0].gate.size(), gate.size());
  for (size_t i = 0; i < gate.size(); ++i) EXPECT_NEAR(p[1].tokens[0].gate[i], gate[i], 1e-3) << i;  // float16: 11 significant bits
  Raw raw(ws.path());
  EXPECT_EQ(raw.text("SELECT length(gate_f16) FROM gate_traces WHERE gate_f16 IS NOT NULL"), "10");
  EXPECT_EQ(raw.text("SELECT count(*) FROM gate_traces"), "3");

  std::filesystem::create_directories(dir.file("adapter"));
  write_file(dir.file("adapter/adapter_model.safetensors"), "weights");
  write_file(dir.file("adapter/adapter_config.json"), "{}");
  ws.add_artifact(id, "adapter", dir.file("adapter"));
  const auto arts = ws.artifacts(id);
  ASSERT_EQ(arts.size(), 2u);
  for (const auto& a : arts) EXPECT_EQ(a.sha256, imsm::sha256_file(a.path));
  EXPECT_EQ(ws.run_of_adapter(dir.file("adapter")).value_or(0), id);
  EXPECT_FALSE(ws.run_of_adapter(dir.file("adapt")).has_value());
}

TEST(Workspace, ReaderReadsWhileAWriterHoldsATransaction) {
  TempDir dir;
  const std::string path = dir.file("ws.imsm");
  store::Workspace writer(path);
  store::NewRun r = train_run("t");
  const int64_t id = writer.create_run(r);
  writer.add_train_metrics(id, {imsm::StepRecord{.step = 1, .epoch = 0, .loss = 1.0, .learning_rate = 0, .grad_norm = 0, .tokens_per_second = 0}});
  Raw raw(path);
  raw.exec("BEGIN IMMEDIATE");  // another connection holds the write lock, mid-transaction
  raw.exec("INSERT INTO train_metrics(run_id, step, epoch) VALUES (" + std::to_string(id) + ", 2, 0)");
  store::Workspace reader(path, store::Workspace::Mode::ReadOnly);
  EXPECT_EQ(reader.train_metrics(id).size(), 1u);  // WAL: the committed snapshot, no "database is locked"
  std::thread commit_later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    raw.exec("COMMIT");
  });
  writer.add_train_metrics(id, {imsm::StepRecord{.step = 3, .epoch = 0, .loss = 1.0, .learning_rate = 0, .grad_norm = 0, .tokens_per_second = 0}});  // waits for the lock (busy timeout), then writes
  commit_later.join();
  EXPECT_EQ(reader.train_metrics(id).size(), 3u);
}
