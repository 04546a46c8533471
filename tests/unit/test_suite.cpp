// Benchmark suites and the forgetting table: parsing with errors that name the
// file and key, and table values computed by hand.
#include <gtest/gtest.h>

#include "eval/suite.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

TEST(Suite, ReadsBenchmarksWithDefaultsAndRelativePaths) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("data"));
  write_file(dir.file("data/cola.jsonl"), "{\"input\": \"x\", \"output\": \"yes\"}\n");
  write_file(dir.file("data/gsm.jsonl"), "{\"input\": \"x\", \"output\": \"#### 4\"}\n");
  write_file(dir.file("suite.json"), R"({"name": "general", "batch_size": 2, "benchmarks": [
    {"dataset": "data/cola.jsonl", "task": "cola"},
    {"name": "GSM8K", "dataset": "data/gsm.jsonl", "task": "gsm8k", "metric": "Accuracy", "max_new_tokens": 256, "limit": 50}]})");
  const auto s = imsm::read_suite(dir.file("suite.json"));
  EXPECT_EQ(s.name, "general");
  EXPECT_EQ(s.batch_size, 2);
  ASSERT_EQ(s.benchmarks.size(), 2u);
  EXPECT_EQ(s.benchmarks[0].name, "cola");      // the file stem
  EXPECT_EQ(s.benchmarks[0].metric, "MCC");     // the task's first official metric
  EXPECT_EQ(s.benchmarks[0].dataset, dir.file("data/cola.jsonl"));
  EXPECT_EQ(s.benchmarks[1].metric, "Accuracy");
  EXPECT_EQ(s.benchmarks[1].max_new_tokens, 256);
  EXPECT_EQ(s.benchmarks[1].limit, 50);
}

TEST(Suite, BadSuitesNameTheFileAndTheKey) {
  TempDir dir;
  write_file(dir.file("d.jsonl"), "{\"input\": \"x\", \"output\": \"yes\"}\n");
  auto bad = [&](const std::string& text, const std::vector<std::string>& needles) {
    write_file(dir.file("s.json"), text);
    expect_bad_input([&] { imsm::read_suite(dir.file("s.json")); }, needles);
  };
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola"}], "extra": 1})", {"s.json", "unknown key \"extra\""});
  bad(R"({"benchmarks": []})", {"s.json", "non-empty"});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "squad"}]})", {"benchmarks[0]", "unknown task \"squad\""});
  bad(R"({"benchmarks": [{"dataset": "missing.jsonl", "task": "cola"}]})", {"benchmarks[0]", "missing.jsonl", "does not exist"});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola", "metric": "F1_overlap"}]})", {"benchmarks[0]", "metric \"F1_overlap\""});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "ropes", "metric": "Accuracy"}]})", {"benchmarks[0]", "Accuracy"});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola"}, {"dataset": "d.jsonl", "task": "mrpc"}]})", {"benchmarks[1]", "used twice"});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola", "limit": -1}]})", {"benchmarks[0]", "limit"});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola", "typo": 1}]})", {"benchmarks[0]", "unknown key \"typo\""});
  bad(R"({"benchmarks": [{"dataset": "d.jsonl", "task": "cola"}],)", {"s.json", "malformed JSON"});
}

TEST(Suite, ForgettingTableHandComputed) {
  imsm::Suite s;
  s.benchmarks = {{"A", "a", "cola", "MCC", 8, 8, 0}, {"B", "b", "gsm8k", "EM", 8, 8, 0}, {"C", "c", "webq", "Perplexity", 8, 8, 0}};
  const imsm::SubjectScores base{"base", {0.5, 0.2, 12.0}};
  const imsm::SubjectScores lora{"LoRA", {0.25, 0.3, 10.0}}, imsm_run{"IMSM", {0.5, 0.25, 11.0}};
  // Averages leave perplexity out: base (0.5 + 0.2) / 2 = 0.35, LoRA 0.275, IMSM 0.375.
  EXPECT_DOUBLE_EQ(imsm::suite_average(s, base.scores), 0.35);
  const auto t = imsm::forgetting_table(s, base, {lora, imsm_run});
  EXPECT_EQ(t.header, (std::vector<std::string>{"benchmark", "metric", "base", "LoRA", "IMSM"}));
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"A", "MCC", "0.5000", "0.2500 (-0.2500)", "0.5000 (+0.0000)"}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"B", "EM", "0.2000", "0.3000 (+0.1000)", "0.2500 (+0.0500)"}));
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"C", "Perplexity", "12.0000", "10.0000 (-2.0000)", "11.0000 (-1.0000)"}));
  EXPECT_EQ(t.rows[3], (std::vector<std::string>{"average", "", "0.3500", "0.2750 (-0.0750)", "0.3750 (+0.0250)"}));
  const std::string text = imsm::format_table(t);
  EXPECT_NE(text.find("average"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
}

// The suites shipped in projects/suites/ stay valid (and find the paper's data).
TEST(Suite, ShippedSuitesParse) {
  for (const char* name : {"paper-tasks.json", "paper-tasks-quick.json"}) {
    const auto s = imsm::read_suite(std::string(IMSM_SOURCE_DIR) + "/projects/suites/" + name);
    EXPECT_EQ(s.benchmarks.size(), 7u) << name;
  }
}
