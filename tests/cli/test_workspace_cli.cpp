// The workspace through the imsm executable: recording, `imsm runs`, and
// reliability — kill -9 at random moments while a reader watches, resume,
// refusal of files that are not workspaces. Expected values come from raw
// SQLite queries and from an uninterrupted run of the same configuration.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "store/workspace.h"

using imsm::testing::write_file;
using namespace imsm::clitest;
namespace store = imsm::store;

namespace {

std::string sql_text(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  // As the workspace's own connections: wait for a lock (e.g. the first opener's WAL recovery after a kill -9) instead of failing.
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

double sql_double(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  // As the workspace's own connections: wait for a lock (e.g. the first opener's WAL recovery after a kill -9) instead of failing.
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* st = nullptr;
  double out = NAN;
  EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  if (sqlite3_step(st) == SQLITE_ROW) out = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// A training set and configuration large enough that a run lasts a few seconds.
std::string write_training(const TempDir& dir, const std::string& name, int examples, int save_steps) {
  std::string lines;
  for (int i = 0; i < examples; ++i)
    lines += "{\"input\": \"Add " + std::to_string(i) + " and " + std::to_string(i % 7) + "\", \"output\": \"" + std::to_string(i + i % 7) + "\"}\n";
  write_file(dir.file(name + ".jsonl"), lines);
  write_file(dir.file(name + ".json"),
             nlohmann::json{{"model_path", model_dir()}, {"data_path", dir.file(name + ".jsonl")}, {"max_input_length", 32},
                            {"max_output_length", 8}, {"lora_r", 4}, {"gate_rank", 4}, {"num_epochs", 1}, {"batch_size", 2},
                            {"learning_rate", 1e-3}, {"save_steps", save_steps}, {"output_dir", dir.file(name + "-out")}}
                 .dump());
  return dir.file(name + ".json");
}

pid_t spawn_imsm(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(IMSM_BINARY), const_cast<char*>("-q")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(IMSM_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST(WorkspaceCli, TrainRecordsTheRunAndRunsCommandsReadIt) {
  TempDir dir;
  const std::string ws = dir.file("ws.imsm");
  const std::string config = write_training(dir, "t", 16, 0);
  ASSERT_EQ(imsm_run({"train", "--config", config, "--workspace", ws}).code, 0);
  ASSERT_EQ(imsm_run({"train", "--config", config, "--workspace", ws, "--set", "variant=none", "--set", "seed=5"}).code, 0);
  EXPECT_EQ(sql_text(ws, "SELECT group_concat(status) FROM runs"), "finished,finished");
  EXPECT_EQ(sql_text(ws, "SELECT count(*) FROM train_metrics WHERE run_id = 1"), "8");  // 16 examples / batch 2
  EXPECT_EQ(sql_text(ws, "SELECT count(*) FROM artifacts WHERE run_id = 1 AND kind = 'adapter' AND path LIKE '%imsm_gate.safetensors'"), "1");
  EXPECT_EQ(sql_text(ws, "SELECT json_extract(config_json, '$.variant') FROM runs WHERE id = 2"), "none");

  const Result list = imsm_run({"runs", "list", "--workspace", ws});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("t lora + IMSM query"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("step 8 loss"), std::string::npos) << list.out;

  const Result show = imsm_run({"runs", "show", "2", "--workspace", ws});
  ASSERT_EQ(show.code, 0) << show.err;
  const auto j = nlohmann::json::parse(show.out);
  EXPECT_EQ(j["status"], "finished");
  EXPECT_EQ(j["seed"], 5);
  ASSERT_EQ(j["metrics"].size(), 8u);
  EXPECT_EQ(j["metrics"][7]["loss"].get<double>(), sql_double(ws, "SELECT loss FROM train_metrics WHERE run_id = 2 AND step = 8"));

  const Result cmp = imsm_run({"runs", "compare", "1", "2", "--workspace", ws});
  ASSERT_EQ(cmp.code, 0) << cmp.err;
  EXPECT_NE(cmp.out.find("config.variant"), std::string::npos) << cmp.out;  // the keys that differ
  EXPECT_NE(cmp.out.find("config.seed"), std::string::npos) << cmp.out;
  EXPECT_EQ(cmp.out.find("config.lora_r"), std::string::npos) << cmp.out;   // and only those

  const Result csv = imsm_run({"runs", "export", "1", "2", "--format", "csv", "--workspace", ws});
  ASSERT_EQ(csv.code, 0) << csv.err;
  std::istringstream rows(csv.out);
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line, "run_id,run_name,kind,record,benchmark,task,step,epoch,metric,value\r");
  int losses = 0;
  while (std::getline(rows, line)) {
    if (line.find(",loss,") == std::string::npos) continue;
    ++losses;
    const std::string run_id = line.substr(0, line.find(','));
    const std::string step = line.substr(line.find(",train,,,") + 9, line.find(',', line.find(",train,,,") + 9) - line.find(",train,,,") - 9);
    const double value = std::stod(line.substr(line.rfind(',') + 1));
    EXPECT_EQ(value, sql_double(ws, "SELECT loss FROM train_metrics WHERE run_id = " + run_id + " AND step = " + step)) << line;
  }
  EXPECT_EQ(losses, 16);
  const Result json_out = imsm_run({"runs", "export", "1", "--format", "json", "-o", dir.file("runs.json"), "--workspace", ws});
  ASSERT_EQ(json_out.code, 0) << json_out.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir.file("runs.json")))[0]["id"], 1);

  expect_bad({"runs", "show", "9", "--workspace", ws}, {"ws.imsm", "no run 9"});
  expect_bad({"runs", "resume", "1", "--workspace", ws}, {"run 1", "already finished"});
  write_file(dir.file("notes.txt"), "not a database at all, but my notes\n");
  expect_bad({"runs", "list", "--workspace", dir.file("notes.txt")}, {"notes.txt", "not a workspace"});
  EXPECT_EQ(slurp(dir.file("notes.txt")), "not a database at all, but my notes\n");
  expect_bad({"train", "--config", config, "--workspace", dir.file("notes.txt")}, {"notes.txt", "not a workspace"});
  {
    sqlite3* db = nullptr;
    sqlite3_open(ws.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 42", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  expect_bad({"runs", "list", "--workspace", ws}, {"ws.imsm", "version 42", "newer"});
}

// kill -9 at random moments of training (and of its resumptions) while
// another process-like reader polls the workspace. Each time: integrity_check
// passes, every row the reader saw committed is still there, the run reads
// "interrupted"; `imsm runs resume` finally finishes it with the losses of an
// uninterrupted run (resume is exact).
TEST(WorkspaceCli, KillNineAtRandomMomentsLosesNothingAndResumeFinishes) {
  TempDir dir;
  const std::string config = write_training(dir, "k", 640, 7);  // 320 steps: three kill cycles (each ~50 steps on this VM) never reach the end
  const std::string ref_ws = dir.file("ref.imsm"), ws = dir.file("ws.imsm");
  ASSERT_EQ(imsm_run({"train", "--config", config, "--workspace", ref_ws, "--set", "output_dir=" + dir.file("ref-out")}).code, 0);
  std::map<int64_t, double> reference;
  for (const auto& m : store::Workspace(ref_ws, store::Workspace::Mode::ReadOnly).train_metrics(1)) reference[m.step] = m.loss;
  ASSERT_EQ(reference.size(), 320u);

  // The reader: polls through its own connection, as the workbench does.
  std::mutex mu;
  std::map<int64_t, double> seen;
  std::atomic<bool> stop{false};
  std::atomic<int> reader_errors{0}, reads{0};
  std::string reader_error;
  std::thread reader([&] {
    while (!stop) {
      try {
        if (std::filesystem::exists(ws)) {
          store::Workspace r(ws, store::Workspace::Mode::ReadOnly);
          const auto runs = r.runs();
          if (!runs.empty()) {
            const auto rows = r.train_metrics(1);
            std::lock_guard<std::mutex> lock(mu);
            for (const auto& m : rows) seen[m.step] = m.loss;
            ++reads;
          }
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (std::string(e.what()).find("no such table") == std::string::npos) {  // a workspace being created
          ++reader_errors;
          reader_error = e.what();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto rows_seen = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  };

  std::mt19937 rng(std::random_device{}());
  std::vector<std::string> args = {"train", "--config", config, "--workspace", ws};
  const int kKills = 3;
  for (int kill_no = 0; kill_no < kKills; ++kill_no) {
    const size_t before = rows_seen();
    const pid_t pid = spawn_imsm(args);
    // Wait until this process has committed new steps, then a random moment more.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (rows_seen() <= before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 700)(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    waitpid(pid, &status, 0);  // reaped, as a shell would
    ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before the kill: make it longer";

    EXPECT_EQ(sql_text(ws, "PRAGMA integrity_check"), "ok") << "kill " << kill_no;
    std::map<int64_t, double> committed;
    {
      std::lock_guard<std::mutex> lock(mu);
      committed = seen;
    }
    std::map<int64_t, double> now;
    for (const auto& m : store::Workspace(ws, store::Workspace::Mode::ReadOnly).train_metrics(1)) now[m.step] = m.loss;
    for (const auto& [step, loss] : committed) {
      ASSERT_TRUE(now.count(step)) << "kill " << kill_no << ": committed step " << step << " is gone";
      EXPECT_EQ(now[step], loss) << "step " << step;
    }
    const Result list = imsm_run({"runs", "list", "--workspace", ws});  // opening for writing marks the dead run
    EXPECT_NE(list.out.find("interrupted"), std::string::npos) << list.out;
    EXPECT_EQ(sql_text(ws, "SELECT status FROM runs WHERE id = 1"), "interrupted");
    args = {"runs", "resume", "1", "--workspace", ws};
  }
  const Result done = imsm_run(args);
  stop = true;
  reader.join();
  ASSERT_EQ(done.code, 0) << done.err;
  EXPECT_EQ(reader_errors.load(), 0) << reader_error;
  EXPECT_GT(reads.load(), 10);
  EXPECT_EQ(sql_text(ws, "SELECT status FROM runs"), "finished");
  EXPECT_EQ(sql_text(ws, "SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(sql_text(ws, "PRAGMA integrity_check"), "ok");
  const auto final_rows = store::Workspace(ws, store::Workspace::Mode::ReadOnly).train_metrics(1);
  ASSERT_EQ(final_rows.size(), reference.size());
  for (const auto& m : final_rows)  // exact resume: same batches, dropout masks and optimizer state
    EXPECT_NEAR(m.loss, reference[m.step], 1e-5 * std::abs(reference[m.step])) << "step " << m.step;
}

// `imsm eval --workspace`: scores, predictions and per-token gate traces land
// in the workspace, linked to the training run; the traces equal what
// `imsm generate --json` reports for the same prompt decoded alone.
// `imsm eval --suite`: the forgetting table's scores equal single-set evaluations.
TEST(WorkspaceCli, EvalRecordsPredictionsGateTracesAndSuites) {
  TempDir dir;
  const std::string ws = dir.file("ws.imsm");
  const std::string config = write_training(dir, "e", 16, 0);
  ASSERT_EQ(imsm_run({"train", "--config", config, "--workspace", ws}).code, 0);
  const std::string adapter = dir.file("e-out/adapter");
  std::string lines;
  for (int i = 0; i < 5; ++i) lines += "{\"input\": \"Add " + std::to_string(i) + " and 1\", \"output\": [\"" + std::to_string(i + 1) + "\", \"x\"]}\n";
  write_file(dir.file("set.jsonl"), lines);
  const Result ev = imsm_run({"eval", "--model", model_dir(), "--adapter", adapter, "--dataset", dir.file("set.jsonl"), "--task", "webq",
                              "--max-new-tokens", "6", "--batch-size", "3", "--full-gate", "--perplexity", "--json",
                              "--predictions", dir.file("pred.jsonl"), "--workspace", ws});
  ASSERT_EQ(ev.code, 0) << ev.err;
  const auto scores = nlohmann::json::parse(ev.out);
  ASSERT_EQ(scores["run_id"], 2);
  EXPECT_EQ(sql_text(ws, "SELECT kind || ' ' || status || ' ' || parent_run_id FROM runs WHERE id = 2"), "eval finished 1");
  EXPECT_EQ(sql_double(ws, "SELECT value FROM evaluations WHERE run_id = 2 AND metric = 'EM'"), scores["EM"].get<double>());
  EXPECT_EQ(sql_double(ws, "SELECT value FROM evaluations WHERE run_id = 2 AND metric = 'Perplexity'"), scores["Perplexity"].get<double>());
  EXPECT_EQ(sql_text(ws, "SELECT count(*) FROM predictions WHERE run_id = 2"), "5");

  const store::Workspace read(ws, store::Workspace::Mode::ReadOnly);
  const auto preds = read.predictions(2, "set", true);
  ASSERT_EQ(preds.size(), 5u);
  std::istringstream file(slurp(dir.file("pred.jsonl")));
  std::string line;
  for (const auto& p : preds) {
    ASSERT_TRUE(std::getline(file, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(p.answer, j["answer"]);
    EXPECT_EQ(p.golds, j["output"].get<std::vector<std::string>>());
    const Result gen = imsm_run({"generate", "--model", model_dir(), "--adapter", adapter, "--prompt", p.input, "--max-new-tokens", "6", "--json"});
    ASSERT_EQ(gen.code, 0) << gen.err;
    const auto g = nlohmann::json::parse(gen.out);
    ASSERT_EQ(g["ids"].size(), p.tokens.size()) << p.input;
    for (size_t t = 0; t < p.tokens.size(); ++t) {
      EXPECT_EQ(p.tokens[t].id, g["ids"][t].get<int32_t>());
      // Batched (padded) vs alone: fp32 sums in another order, 1e-4 absolute on a mean in (0, 1).
      EXPECT_NEAR(p.tokens[t].gate_mean, g["gate_mean"][t].get<double>(), 1e-4);
      ASSERT_EQ(p.tokens[t].gate.size(), 64u);  // hidden size: the full vector, stored as float16
      double mean = 0;
      for (float v : p.tokens[t].gate) mean += v;
      EXPECT_NEAR(mean / 64.0, p.tokens[t].gate_mean, 1e-3);  // float16 keeps ~3 decimal digits
    }
  }

  // A suite of two sets: the table's numbers equal single-set evaluations.
  write_file(dir.file("cola.jsonl"), "{\"input\": \"Is this fine? yes or no\", \"output\": \"yes\"}\n{\"input\": \"Bad one, yes or no\", \"output\": \"no\"}\n");
  write_file(dir.file("suite.json"), nlohmann::json{{"name", "mini"}, {"batch_size", 2}, {"benchmarks", {
      {{"name", "Sums"}, {"dataset", "set.jsonl"}, {"task", "webq"}, {"metric", "Perplexity"}, {"max_new_tokens", 6}},
      {{"name", "CoLA"}, {"dataset", "cola.jsonl"}, {"task", "cola"}, {"metric", "Accuracy"}, {"max_new_tokens", 3}}}}}.dump());
  const Result suite = imsm_run({"eval", "--model", model_dir(), "--suite", dir.file("suite.json"), "--adapter", adapter, "--json", "--workspace", ws});
  ASSERT_EQ(suite.code, 0) << suite.err;
  const auto s = nlohmann::json::parse(suite.out);
  ASSERT_EQ(s["benchmarks"].size(), 2u);
  for (const auto& [name, task, metric, tokens] : std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"set.jsonl", "webq", "Perplexity", "6"}, {"cola.jsonl", "cola", "Accuracy", "3"}}) {
    const size_t i = task == "webq" ? 0 : 1;
    for (const bool with_adapter : {false, true}) {
      std::vector<std::string> args = {"eval", "--model", model_dir(), "--dataset", dir.file(name), "--task", task, "--max-new-tokens", tokens, "--json", "--perplexity"};
      if (with_adapter) args.insert(args.end(), {"--adapter", adapter});
      const Result one = imsm_run(args);
      ASSERT_EQ(one.code, 0) << one.err;
      const double expected = nlohmann::json::parse(one.out)[metric].get<double>();
      const double got = with_adapter ? s["benchmarks"][i]["run 1"]["score"].get<double>() : s["benchmarks"][i]["base"].get<double>();
      // Same code path; the suite batches by 2, the single run by 8: fp32 sums in another order (1e-6 relative).
      EXPECT_NEAR(got, expected, 1e-6 * std::max(1.0, std::abs(expected))) << name << " adapter " << with_adapter;
    }
    EXPECT_NEAR(s["benchmarks"][i]["run 1"]["change"].get<double>(),
                s["benchmarks"][i]["run 1"]["score"].get<double>() - s["benchmarks"][i]["base"].get<double>(), 1e-12);
  }
  EXPECT_EQ(s["run_ids"], nlohmann::json::array({3, 4}));
  EXPECT_EQ(sql_text(ws, "SELECT group_concat(x, ',') FROM (SELECT benchmark || ':' || metric AS x FROM evaluations WHERE run_id = 4 AND metric IN ('Perplexity', 'Accuracy') ORDER BY id)"),
            "Sums:Perplexity,CoLA:Accuracy");
  const Result table = imsm_run({"eval", "--model", model_dir(), "--suite", dir.file("suite.json"), "--adapter", adapter});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("average"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("e-out"), std::string::npos) << table.out;  // an adapter's label: its run folder
  // runs compare of the two suite runs: each shared right/wrong metric tested from the stored predictions (not perplexity),
  // the difference the suite's own change.
  const Result cmp = imsm_run({"runs", "compare", "3", "4", "--workspace", ws});
  ASSERT_EQ(cmp.code, 0) << cmp.err;
  const std::string tests = cmp.out.substr(cmp.out.find("The first evaluation against each other one"));
  const double cola_change = s["benchmarks"][1]["run 1"]["change"].get<double>();
  char cola_text[32];
  std::snprintf(cola_text, sizeof(cola_text), "%+.4f [", cola_change);
  std::string cola_line;  // the row of CoLA's Accuracy
  std::istringstream rows(tests);
  for (std::string line; std::getline(rows, line);)
    if (line.rfind("run 4 - run 3", 0) == 0 && line.find("CoLA") != std::string::npos && line.find("Accuracy") != std::string::npos) cola_line = line;
  EXPECT_NE(cola_line.find(cola_text), std::string::npos) << tests;
  EXPECT_NE(cola_line.find("McNemar exact"), std::string::npos) << tests;
  EXPECT_EQ(tests.find("Perplexity"), std::string::npos) << tests;
}

// `imsm eval --mix-alpha`: one adapter along fixed mixes in one pass, each α its own recorded run; the ends and the
// middle equal the adapter rewritten as its PEFT method alone (α = 0), the base model (α = 1) and the no-gate
// variant (α = ½) evaluated the ordinary way.
TEST(WorkspaceCli, EvalAlongMixAlphaEqualsEachMixEvaluatedAlone) {
  TempDir dir;
  const std::string ws = dir.file("ws.imsm");
  ASSERT_EQ(imsm_run({"train", "--config", write_training(dir, "m", 16, 0), "--set", "learning_rate=0.05", "--workspace", ws}).code, 0);
  const std::string adapter = dir.file("m-out/adapter");
  std::string lines;
  for (int i = 0; i < 6; ++i) lines += "{\"input\": \"Add " + std::to_string(i) + " and 2\", \"output\": \"" + std::to_string(i + 2) + "\"}\n";
  write_file(dir.file("set.jsonl"), lines);
  const std::vector<std::string> common = {"--model", model_dir(), "--dataset", dir.file("set.jsonl"), "--task", "webq", "--max-new-tokens", "5",
                                           "--batch-size", "4", "--perplexity", "--json"};
  auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"eval"};
    a.insert(a.end(), common.begin(), common.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const Result along = imsm_run(args({"--adapter", adapter, "--mix-alpha", "0,0.5,1", "--workspace", ws, "--predictions", dir.file("pred.jsonl")}));
  ASSERT_EQ(along.code, 0) << along.err;
  std::vector<nlohmann::json> rows;
  std::istringstream out(along.out);
  for (std::string line; std::getline(out, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 3u) << along.out;
  // The same adapter rewritten: variant none (the tuned stream alone) and no-gate (½ + ½).
  for (const auto& [variant, folder] : {std::pair<std::string, std::string>{"none", "alone"}, {"no-gate", "half"}}) {
    std::filesystem::copy(adapter, dir.file(folder), std::filesystem::copy_options::recursive);
    std::filesystem::remove(dir.file(folder + "/imsm_gate.safetensors"));
    auto config = nlohmann::json::parse(slurp(dir.file(folder + "/imsm_config.json")));
    config["variant"] = variant;
    write_file(dir.file(folder + "/imsm_config.json"), config.dump());
  }
  const std::vector<std::pair<size_t, std::vector<std::string>>> alone = {{0, {"--adapter", dir.file("alone")}}, {1, {"--adapter", dir.file("half")}}, {2, {}}};
  for (const auto& [k, extra] : alone) {
    const Result one = imsm_run(args(extra));
    ASSERT_EQ(one.code, 0) << one.err;
    const auto j = nlohmann::json::parse(one.out);
    EXPECT_EQ(rows[k]["mix_alpha"], std::vector<double>({0, 0.5, 1})[k]);
    EXPECT_EQ(rows[k]["EM"], j["EM"]) << "alpha " << rows[k]["mix_alpha"];
    // Perplexity: the same mix in another batch layout, fp32 sums in another order (1e-5 relative).
    EXPECT_NEAR(rows[k]["Perplexity"].get<double>(), j["Perplexity"].get<double>(), 1e-5 * j["Perplexity"].get<double>()) << k;
  }
  EXPECT_NE(rows[0]["Perplexity"], rows[2]["Perplexity"]) << "the trained adapter moved the model";
  // Recorded: a run per α with its mix in the configuration, the training run as parent; predictions per α.
  for (size_t k = 0; k < 3; ++k) {
    const std::string id = std::to_string(rows[k]["run_id"].get<int64_t>());
    EXPECT_EQ(sql_text(ws, "SELECT status || ' ' || parent_run_id FROM runs WHERE id = " + id), "finished 1");
    EXPECT_EQ(sql_double(ws, "SELECT json_extract(config_json, '$.mix_alpha') FROM runs WHERE id = " + id), rows[k]["mix_alpha"].get<double>());
    EXPECT_EQ(sql_double(ws, "SELECT value FROM evaluations WHERE run_id = " + id + " AND metric = 'EM'"), rows[k]["EM"].get<double>());
  }
  // Items that flipped from α = 1 (the base model) to α = 0 (the adapter): each line's answers are the two runs' stored ones.
  const std::string a = std::to_string(rows[2]["run_id"].get<int64_t>()), b = std::to_string(rows[0]["run_id"].get<int64_t>());
  const Result flips = imsm_run({"runs", "flips", a, b, "--workspace", ws, "--json"});
  ASSERT_EQ(flips.code, 0) << flips.err;
  std::istringstream flip_lines(flips.out);
  int flipped = 0;
  for (std::string line; std::getline(flip_lines, line); ++flipped) {
    const auto j = nlohmann::json::parse(line);
    const std::string index = std::to_string(j["example"].get<int64_t>());
    EXPECT_EQ(sql_text(ws, "SELECT answer FROM predictions WHERE run_id = " + a + " AND example_index = " + index), j["answer_a"]);
    EXPECT_EQ(sql_text(ws, "SELECT answer FROM predictions WHERE run_id = " + b + " AND example_index = " + index), j["answer_b"]);
    EXPECT_NE(j["answer_a"], j["answer_b"]);
  }
  const Result summary = imsm_run({"runs", "flips", a, b, "--workspace", ws});
  ASSERT_EQ(summary.code, 0) << summary.err;
  EXPECT_NE(summary.out.find("lost of 6 examples compared"), std::string::npos) << summary.out;
  expect_bad({"runs", "flips", "1", b, "--workspace", ws}, {"run 1", "train run"});
  EXPECT_TRUE(std::filesystem::exists(dir.file("pred.alpha0.5.jsonl")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("pred.alpha1.jsonl")));
  // Refused before any work: an α outside [0, 1], no adapter, a suite.
  expect_bad(args({"--adapter", adapter, "--mix-alpha", "0,1.5"}), {"--mix-alpha", "1.5", "[0, 1]"});
  expect_bad(args({"--mix-alpha", "0.5"}), {"--mix-alpha", "--adapter"});
  expect_bad({"eval", "--model", model_dir(), "--suite", dir.file("suite.json"), "--adapter", adapter, "--mix-alpha", "0.5"}, {"--mix-alpha", "--suite"});
}

// `imsm eval --run`: a training run of the workspace brings its adapter, base model and lengths; a suite already
// evaluated with the same files and settings is read back; an evaluation run or a missing workspace is refused.
TEST(WorkspaceCli, EvalOfRunsUsesTheirAdaptersAndReusesSuites) {
  TempDir dir;
  const std::string ws = dir.file("ws.imsm");
  ASSERT_EQ(imsm_run({"train", "--config", write_training(dir, "r", 12, 0), "--workspace", ws}).code, 0);
  std::string lines;
  for (int i = 0; i < 4; ++i) lines += "{\"input\": \"Add " + std::to_string(i) + " and 2\", \"output\": \"" + std::to_string(i + 2) + "\"}\n";
  write_file(dir.file("set.jsonl"), lines);
  const Result runs = imsm_run({"eval", "--workspace", ws, "--run", "1", "--dataset", dir.file("set.jsonl"), "--task", "webq", "--json"});
  ASSERT_EQ(runs.code, 0) << runs.err;
  std::istringstream out(runs.out);
  std::string base_line, run_line;
  ASSERT_TRUE(std::getline(out, base_line) && std::getline(out, run_line)) << runs.out;
  const auto base = nlohmann::json::parse(base_line), tuned = nlohmann::json::parse(run_line);
  EXPECT_EQ(tuned["subject"], "run 1");
  EXPECT_EQ(sql_text(ws, "SELECT parent_run_id FROM runs WHERE id = " + std::to_string(tuned["run_id"].get<int>())), "1");
  // The same evaluations by hand: the run's adapter and lengths (max_input_length 32, max_output_length 8).
  for (const bool with_adapter : {false, true}) {
    std::vector<std::string> args = {"eval", "--model", model_dir(), "--dataset", dir.file("set.jsonl"), "--task", "webq",
                                     "--max-input-length", "32", "--max-new-tokens", "8", "--json"};
    if (with_adapter) args.insert(args.end(), {"--adapter", dir.file("r-out/adapter")});
    const Result one = imsm_run(args);
    ASSERT_EQ(one.code, 0) << one.err;
    const auto expected = nlohmann::json::parse(one.out);
    for (const char* metric : {"EM", "Contain"}) EXPECT_EQ((with_adapter ? tuned : base)[metric], expected[metric]) << metric;
  }
  // Lengths given on the command line win over the run's.
  const Result short_answers = imsm_run({"eval", "--workspace", ws, "--run", "1", "--dataset", dir.file("set.jsonl"), "--task", "webq",
                                         "--max-new-tokens", "1", "--json"});
  ASSERT_EQ(short_answers.code, 0) << short_answers.err;
  const std::string last_line = short_answers.out.substr(short_answers.out.rfind('{'));
  const int64_t short_run = nlohmann::json::parse(last_line)["run_id"].get<int64_t>();
  EXPECT_EQ(sql_text(ws, "SELECT json_extract(config_json, '$.max_new_tokens') FROM runs WHERE id = " + std::to_string(short_run)), "1");
  write_file(dir.file("suite.json"), nlohmann::json{{"name", "one"}, {"batch_size", 2}, {"benchmarks", {
      {{"name", "Sums"}, {"dataset", "set.jsonl"}, {"task", "webq"}, {"metric", "EM"}, {"max_new_tokens", 4}}}}}.dump());
  const Result first = imsm_run({"eval", "--workspace", ws, "--run", "1", "--suite", dir.file("suite.json"), "--json"});
  ASSERT_EQ(first.code, 0) << first.err;
  const Result again = imsm_run({"eval", "--workspace", ws, "--run", "1", "--suite", dir.file("suite.json"), "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["run_ids"], nlohmann::json::parse(first.out)["run_ids"]);  // read back, not repeated
  EXPECT_NE(again.err.find("(2 reused)"), std::string::npos) << again.err;
  const Result eval_run = imsm_run({"eval", "--workspace", ws, "--run", "2", "--suite", dir.file("suite.json")});
  EXPECT_EQ(eval_run.code, 2) << eval_run.err;
  EXPECT_NE(eval_run.err.find("run 2: is an evaluation, not a training run"), std::string::npos) << eval_run.err;
  const Result no_ws = imsm_run({"eval", "--run", "1", "--suite", dir.file("suite.json")});
  EXPECT_NE(no_ws.code, 0);
  EXPECT_NE(no_ws.err.find("give --workspace too"), std::string::npos) << no_ws.err;
}
