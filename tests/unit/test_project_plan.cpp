// The torch-free readers of a project file and of imsm_config.json: what a
// malformed file gives (one bad-input line naming the file and the key), and
// what a well-formed one reads as. Shapes the fuzzers reach.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "config/project_plan.h"
#include "imsm/gate_config.h"
#include "recipes/make_data.h"
#include "report/results.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

const std::string kModel = std::string(IMSM_SOURCE_DIR) + "/resources/models/wordnet-base";

nlohmann::json small_project(const TempDir& dir) {
  return {{"name", "p"}, {"model", kModel}, {"output_dir", dir.file("out")},
          {"data", {{"train", {{"task", "arith"}, {"count", 8}}}}},
          {"suite", {{"benchmarks", {{{"name", "a"}, {"dataset", "train"}, {"task", "gsm8k"}, {"metric", "Accuracy"}}}}}},
          {"train", {{"data", "train"}}},
          {"runs", {{{"peft", "lora"}, {"variant", "query"}}}},
          {"seeds", {1, 2}}};
}

}  // namespace

TEST(ProjectPlan, ResolvesDatasetsSuiteAndTheRunMatrix) {
  TempDir dir;
  write_file(dir.file("p.json"), small_project(dir).dump());
  const imsm::ProjectPlan plan = imsm::plan_project(dir.file("p.json"));
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.run_labels[1], "IMSM(LoRA) seed 2");
  EXPECT_EQ(plan.runs[1].output_dir, dir.file("out") + "/IMSM-LoRA-seed2");
  EXPECT_EQ(plan.runs[1].data_path, dir.file("out") + "/data/train.jsonl");
  EXPECT_EQ(plan.suite["benchmarks"][0]["dataset"], dir.file("out") + "/data/train.jsonl");
  EXPECT_EQ(imsm::project_inputs(plan), (std::vector<std::string>{dir.file("out") + "/data/train.jsonl", dir.file("out") + "/suite.json"}));
}

// A run may have its own seeds (an ablation on one seed beside methods on three); a bad list names the run.
TEST(ProjectPlan, ARunsOwnSeedsReplaceTheProjects) {
  TempDir dir;
  nlohmann::json project = small_project(dir);
  project["runs"].push_back({{"peft", "lora"}, {"variant", "no-query"}, {"seeds", {2}}});
  project["runs"].push_back({{"peft", "lora"}, {"variant", "none"}, {"replay_ratio", 0.25}, {"replay_self_examples", 16}});
  write_file(dir.file("p.json"), project.dump());
  const imsm::ProjectPlan plan = imsm::plan_project(dir.file("p.json"));
  ASSERT_EQ(plan.run_labels, (std::vector<std::string>{"IMSM(LoRA) seed 1", "IMSM(LoRA) seed 2", "IMSM-no-query(LoRA) seed 2",
                                                       "LoRA+SSR seed 1", "LoRA+SSR seed 2"}));
  EXPECT_EQ(plan.runs[2].seed, 2u);
  EXPECT_EQ(plan.runs[3].replay_self_examples, 16);
  project["runs"][1]["seeds"] = {1, "two"};
  write_file(dir.file("p.json"), project.dump());
  expect_bad_input([&] { imsm::plan_project(dir.file("p.json")); }, {"p.json", "runs[1].seeds", "whole numbers", "\"two\""});
}

// A project sweeping one method: each run needs its own label (it names the folder and the report's row);
// without labels the plan is refused, since both runs would write one folder and share one row.
TEST(ProjectPlan, RunsOfOneMethodNeedLabels) {
  TempDir dir;
  nlohmann::json project = {{"name", "sweep"}, {"model", kModel}, {"output_dir", dir.file("out")},
                            {"data", {{"train", {{"task", "arith"}, {"count", 8}}}}},
                            {"suite", {{"benchmarks", {{{"name", "a"}, {"dataset", "train"}, {"task", "gsm8k"}, {"metric", "Accuracy"}}}}}},
                            {"train", {{"data", "train"}}},
                            {"runs", {{{"peft", "lora"}, {"variant", "none"}, {"learning_rate", 1e-3}},
                                      {{"peft", "lora"}, {"variant", "none"}, {"learning_rate", 2e-3}}}},
                            {"seeds", {1, 2}}};
  write_file(dir.file("sweep.json"), project.dump());
  try {
    imsm::plan_project(dir.file("sweep.json"));
    ADD_FAILURE() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("runs[1] and runs[0] are both \"LoRA\""), std::string::npos) << e.what();
  }
  project["runs"][0]["label"] = "LoRA lr 1e-3";
  project["runs"][1]["label"] = "LoRA lr 2e-3";
  write_file(dir.file("sweep.json"), project.dump());
  const auto plan = imsm::plan_project(dir.file("sweep.json"));
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(plan.run_labels[3], "LoRA lr 2e-3 seed 2");
  EXPECT_EQ(plan.runs[0].output_dir, dir.file("out") + "/LoRA-lr-1e-3-seed1");
  EXPECT_EQ(plan.runs[3].output_dir, dir.file("out") + "/LoRA-lr-2e-3-seed2");
  EXPECT_EQ(imsm::report::method_label(plan.runs[3].to_json().dump()), "LoRA lr 2e-3");  // the report's row
  EXPECT_EQ(imsm::report::method_label(R"({"peft": "ia3", "variant": "query"})"), "IMSM((IA)³)");  // unlabelled: from the method
  // Evaluation during training: test_data_path names a data key, eval_suite "suite" the project's own suite file.
  project["train"]["test_data_path"] = "train";
  project["train"]["eval_suite"] = "suite";
  write_file(dir.file("sweep.json"), project.dump());
  const auto evaluated = imsm::plan_project(dir.file("sweep.json"));
  EXPECT_EQ(evaluated.runs[0].test_data_path, dir.file("out") + "/data/train.jsonl");
  EXPECT_EQ(evaluated.runs[0].eval_suite, dir.file("out") + "/suite.json");
  project["train"]["eval_suite"] = "other.json";
  write_file(dir.file("sweep.json"), project.dump());
  expect_bad_input([&] { imsm::plan_project(dir.file("sweep.json")); }, {"sweep.json", "eval_suite", "\"suite\""});
  project["train"]["eval_suite"] = "suite";
  project["train"]["test_data_path"] = "validation";
  write_file(dir.file("sweep.json"), project.dump());
  expect_bad_input([&] { imsm::plan_project(dir.file("sweep.json")); }, {"test_data_path \"validation\" is not a key of \"data\""});
}

// Values of the wrong JSON type were exceptions of the JSON library (not one line naming the file); a
// dataset key is a file name under OUTPUT/data/, so a path in it would write outside the project's folder.
TEST(ProjectPlan, WrongShapesAndPathsInKeysAreBadInputNamingTheFile) {
  TempDir dir;
  const std::string file = dir.file("p.json");
  auto refused = [&](const std::function<void(nlohmann::json&)>& change, const std::vector<std::string>& needles) {
    nlohmann::json project = small_project(dir);
    change(project);
    write_file(file, project.dump());
    std::vector<std::string> all = needles;
    all.push_back("p.json");
    expect_bad_input([&] { imsm::plan_project(file); }, all);
  };
  refused([](auto& p) { p["runs"] = {1}; }, {"runs[0] must be an object"});
  refused([](auto& p) { p["seeds"] = {"one"}; }, {"\"seeds\" must be whole numbers", "\"one\""});
  refused([](auto& p) { p["seeds"] = {1.5}; }, {"\"seeds\" must be whole numbers"});
  refused([](auto& p) { p["train"]["data"] = 3; }, {"train.data \"\" is not a key of \"data\""});
  refused([](auto& p) { p["runs"][0]["variant"] = 64; }, {"runs[0]", "\"variant\""});  // fuzz_project: the label read it as a string first
  refused([](auto& p) { p["suite"]["name"] = 7; }, {"suite", "\"name\""});  // found in review: nlohmann's value() threw
  refused([](auto& p) { p["suite"]["benchmarks"] = {7}; }, {"suite benchmark dataset \"\" is not a key of \"data\""});
  refused([](auto& p) { p["suite"]["benchmarks"][0]["dataset"] = {1}; }, {"suite benchmark dataset"});
  for (const std::string key : {"../escape", "a/b", ".hidden", ""})
    refused([&](auto& p) { p["data"] = {{key, {{"task", "arith"}}}}; }, {"data." + key, "letters, digits"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("escape.jsonl")));
}

TEST(GateConfig, ReadsWhatItWritesAndRefusesValuesOutOfRange) {
  TempDir dir;
  const std::string file = dir.file("imsm_config.json");
  imsm::GateConfig c;
  c.variant = imsm::GateVariant::NoGate;
  c.rank = 4;
  c.hidden_size = 64;
  c.dropout = 0.25;
  c.alpha = 0.75;
  write_file(file, imsm::gate_config_json(c).dump());
  const imsm::GateConfig back = imsm::read_gate_config(file);
  EXPECT_EQ(back.variant, imsm::GateVariant::NoGate);
  EXPECT_EQ(back.rank, 4);
  EXPECT_EQ(back.hidden_size, 64);
  EXPECT_EQ(back.dropout, 0.25);
  EXPECT_EQ(back.alpha, 0.75);
  EXPECT_FALSE(imsm::gate_config_json({}).contains("mix_alpha"));  // query: no fixed mix
  const std::pair<const char*, const char*> bad[] = {
      {R"({"variant": "gated", "gate_rank": 8, "hidden_size": 64})", "unknown IMSM variant \"gated\""},
      {R"({"variant": "query", "gate_rank": 0, "hidden_size": 64})", "gate_rank and hidden_size must be positive"},
      {R"({"variant": "query", "gate_rank": 8, "hidden_size": 64, "dropout_prob": 1})", "dropout_prob must be in [0, 1)"},
      {R"({"variant": "no-gate", "gate_rank": 8, "hidden_size": 64, "mix_alpha": 1.5})", "mix_alpha must be in [0, 1]"},
      {R"({"variant": "query", "gate_rank": 8})", "hidden_size"},
      {R"([1])", "expected a JSON object"}};
  for (const auto& [text, needle] : bad) {
    write_file(file, text);
    expect_bad_input([&] { imsm::read_gate_config(file); }, {"imsm_config.json", needle});
  }
}

// Data from a file: the path is relative to the project file; the slice
// [offset, offset + limit) of its records is checked and copied to
// OUTPUT/data/KEY.jsonl (the official splits hold one or several golds).
TEST(ProjectPlan, DatasetsFromAFileAreASliceOfItsRecords) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("data"));
  write_file(dir.file("data/qa.jsonl"), "{\"input\": \"q0\", \"output\": \"a0\"}\n\n{\"input\": \"q1\", \"output\": [\"a1\", \"b1\"]}\n"
                                        "{\"input\": \"q2\", \"output\": \"a2\"}\n{\"input\": \"q3\", \"output\": \"a3\"}\n");
  auto project = small_project(dir);
  project["data"]["qa"] = {{"file", "data/qa.jsonl"}, {"offset", 1}, {"limit", 2}};
  write_file(dir.file("p.json"), project.dump());
  const imsm::ProjectPlan plan = imsm::plan_project(dir.file("p.json"));
  imsm::make_project_inputs(plan, false);
  EXPECT_EQ(imsm::testing::read_file(dir.file("out/data/qa.jsonl")),
            "{\"input\":\"q1\",\"output\":[\"a1\",\"b1\"]}\n{\"input\":\"q2\",\"output\":\"a2\"}\n");

  project["data"]["qa"] = {{"file", "data/missing.jsonl"}};
  write_file(dir.file("p.json"), project.dump());
  expect_bad_input([&] { imsm::plan_project(dir.file("p.json")); }, {"data.qa", "missing.jsonl", "does not exist"});
  project["data"]["qa"] = {{"file", "data/qa.jsonl"}, {"task", "arith"}};
  write_file(dir.file("p.json"), project.dump());
  expect_bad_input([&] { imsm::plan_project(dir.file("p.json")); }, {"data.qa", "either"});
  write_file(dir.file("data/bad.jsonl"), "{\"input\": \"q0\", \"output\": \"a0\"}\n{\"input\": \"q1\", \"output\": 7}\n");
  project["data"]["qa"] = {{"file", "data/bad.jsonl"}};
  write_file(dir.file("p.json"), project.dump());
  const auto bad = imsm::plan_project(dir.file("p.json"));
  expect_bad_input([&] { imsm::make_project_inputs(bad, false); }, {"bad.jsonl:2", "\"output\""});
}

// The repository's own projects plan (a project whose model is not installed here is passed over, and said so);
// the paper-scale one holds its matrix: six methods on three seeds, two ablations on one.
TEST(ProjectPlan, TheRepositorysProjectsPlan) {
  const std::filesystem::path projects = std::filesystem::path(IMSM_SOURCE_DIR) / "projects";
  for (const auto& e : std::filesystem::directory_iterator(projects)) {
    if (e.path().extension() != ".json") continue;
    const std::string model = nlohmann::json::parse(std::ifstream(e.path())).value("model", "");
    if (!std::filesystem::exists(e.path().parent_path() / model / "config.json")) {
      std::cout << "passed over " << e.path().filename() << ": no model at " << model << "\n";
      continue;
    }
    const imsm::ProjectPlan plan = imsm::plan_project(e.path().string());
    EXPECT_FALSE(plan.runs.empty()) << e.path();
    if (e.path().filename() == "smollm2-paper.json") {
      EXPECT_EQ(plan.runs.size(), 20U);
      EXPECT_EQ(plan.run_labels.back(), "IMSM-no-gate(LoRA) seed 1");
      EXPECT_NE(std::find(plan.run_labels.begin(), plan.run_labels.end(), "LoRA+SSR seed 3"), plan.run_labels.end());
      EXPECT_EQ(plan.suite["benchmarks"].size(), 7U);
    }
  }
}
