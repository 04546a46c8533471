// imsm make-data and imsm pretrain end to end: the files a Hugging Face
// loader expects, a falling loss, bit-identical output for a seed, and
// recipe errors that name the key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "util/sha256.h"

using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {
std::string tiny_recipe(const TempDir& dir, const std::string& out, int epochs) {
  const std::string path = dir.file(out + ".json");
  write_file(path, nlohmann::json{{"output_dir", out}, {"seed", 3}, {"corpus", {{"concepts", 30}}}, {"tokenizer", {{"vocab_size", 600}}},
                                  {"model", {{"hidden_size", 64}, {"intermediate_size", 128}, {"num_hidden_layers", 1},
                                             {"num_attention_heads", 4}, {"num_key_value_heads", 2}}},
                                  {"training", {{"epochs", epochs}, {"batch_size", 16}, {"learning_rate", 5e-3}}}, {"probes", 20}}
                       .dump());
  return path;
}
}  // namespace

TEST(PretrainCli, WritesALoadableModelDeterministicallyAndLearns) {
  TempDir dir;
  const Result a = imsm_run({"pretrain", "--recipe", tiny_recipe(dir, "a", 6)});
  ASSERT_EQ(a.code, 0) << a.err;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "pretrain_recipe.json", "pretrain_log.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("a/") + f))) << f;
  const Result inspect = imsm_run({"inspect-model", "--model", dir.file("a"), "--json"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  const auto log = nlohmann::json::parse(slurp(dir.file("a/pretrain_log.json")));
  EXPECT_EQ(log["status"], "finished");
  EXPECT_LT(log["final_epoch_loss"].get<double>(), std::log(600.0) - 1.0);  // well under the uniform guess ln(V)
  const Result gen = imsm_run({"generate", "--model", dir.file("a"), "--prompt", "A time is a kind of", "--max-new-tokens", "4", "--json"});
  ASSERT_EQ(gen.code, 0) << gen.err;

  const Result b = imsm_run({"pretrain", "--recipe", tiny_recipe(dir, "b", 6)});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(imsm::sha256_file(dir.file("a/model.safetensors")), imsm::sha256_file(dir.file("b/model.safetensors")));
  EXPECT_EQ(slurp(dir.file("a/tokenizer.json")), slurp(dir.file("b/tokenizer.json")));

  write_file(dir.file("bad.json"), R"({"output_dir": "x", "training": {"epochs": 1, "lr": 0.1}})");
  expect_bad({"pretrain", "--recipe", dir.file("bad.json")}, {"bad.json", "training", "unknown key \"lr\""});
  write_file(dir.file("bad2.json"), R"({"model": {}})");
  expect_bad({"pretrain", "--recipe", dir.file("bad2.json")}, {"bad2.json", "output_dir"});
}

TEST(PretrainCli, MakeDataWritesEachBundledTask) {
  TempDir dir;
  for (const char* task : {"arith", "wordnet-qa", "wordnet-cloze", "wordnet-yesno", "wordnet-yesno-context"}) {
    const Result r = imsm_run({"make-data", "--task", task, "--count", "25", "--concepts", "100", "--out", dir.file(std::string(task) + ".jsonl")});
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream lines(slurp(dir.file(std::string(task) + ".jsonl")));
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      const auto j = nlohmann::json::parse(line);
      EXPECT_TRUE(j["input"].is_string());
      EXPECT_TRUE(j["output"].is_string() || j["output"].is_array());
      ++n;
    }
    EXPECT_EQ(n, 25) << task;
  }
  expect_bad({"make-data", "--task", "poetry", "--out", dir.file("x.jsonl")}, {"--task", "\"poetry\""});
  expect_bad({"make-data", "--task", "wordnet-qa", "--wordnet", dir.file("nowhere"), "--out", dir.file("x.jsonl")}, {"nowhere", "wordnet-base"});
}

// A whole project on a tiny pretrained model: data, 2 methods × 2 seeds, the
// suite for the base model and the four adapters, the reports; run twice, the
// second run reuses every finished training run.
TEST(PretrainCli, ProjectRunsTheMatrixRecordsItAndReportsIt) {
  TempDir dir;
  ASSERT_EQ(imsm_run({"pretrain", "--recipe", tiny_recipe(dir, "base", 4)}).code, 0);
  const nlohmann::json project = {
      {"name", "mini"}, {"model", "base"}, {"output_dir", "out"},
      {"data", {{"train", {{"task", "arith"}, {"count", 16}, {"seed", 1}}}, {"test", {{"task", "arith"}, {"count", 4}, {"seed", 2}}},
                {"qa", {{"task", "wordnet-qa"}, {"count", 6}, {"concepts", 30}}}}},
      {"suite", {{"batch_size", 8}, {"benchmarks", {{{"name", "arith"}, {"dataset", "test"}, {"task", "gsm8k"}, {"metric", "Accuracy"}, {"max_new_tokens", 6}},
                                                   {{"name", "qa"}, {"dataset", "qa"}, {"task", "webq"}, {"metric", "Contain"}, {"max_new_tokens", 4}}}}}},
      {"train", {{"data", "train"}, {"gate_probe_data", "test"}, {"num_epochs", 1}, {"batch_size", 8}, {"lora_r", 2}, {"gate_rank", 2}, {"max_input_length", 64}, {"max_output_length", 32}}},
      {"runs", {{{"peft", "lora"}, {"variant", "none"}}, {{"peft", "lora"}, {"variant", "query"}}}},
      {"seeds", {1, 2}}};
  write_file(dir.file("mini.json"), project.dump());
  const Result first = imsm_run({"project", dir.file("mini.json")});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.err.find("4 training runs (0 reused), 5 evaluations"), std::string::npos) << first.err;
  for (const char* f : {"out/report.html", "out/report.md", "out/report.csv", "out/suite.json", "out/data/train.jsonl", "out/workspace.imsm"})
    EXPECT_TRUE(std::filesystem::exists(dir.file(f))) << f;
  EXPECT_EQ(std::system(("xmllint --noout " + dir.file("out/report.html")).c_str()), 0);
  const std::string csv = slurp(dir.file("out/report.csv"));
  EXPECT_NE(csv.find("\nLoRA,arith,Accuracy,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nIMSM(LoRA),qa,Contain,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2,"), std::string::npos) << csv;  // two seeds per method
  // The gate probe's examples: a data key, resolved to the file the project made.
  const auto run_config = nlohmann::json::parse(slurp(dir.file("out/IMSM-LoRA-seed1/train_config.json")));
  EXPECT_EQ(run_config["gate_probe_data"], std::filesystem::weakly_canonical(dir.file("out/data/test.jsonl")).string());
  const Result second = imsm_run({"project", dir.file("mini.json")});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.err.find("4 training runs (4 reused), 5 evaluations (5 reused)"), std::string::npos) << second.err;
  // Run twice, the same table: no copies of the evaluations pooled in (the significance columns included: fixed resamples).
  EXPECT_EQ(slurp(dir.file("out/report.csv")), csv);
  const Result all = imsm_run({"report", "--workspace", dir.file("out/workspace.imsm"), "--out", dir.file("all.csv")});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(slurp(dir.file("all.csv")), csv) << "the whole workspace holds one evaluation per subject";
  // Another test file (5 questions, not 4): the training runs stand, every evaluation is made again.
  auto more = project;
  more["data"]["test"]["count"] = 5;
  write_file(dir.file("mini.json"), more.dump());
  const Result third = imsm_run({"project", dir.file("mini.json")});
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_NE(third.err.find("4 training runs (4 reused), 5 evaluations (0 reused)"), std::string::npos) << third.err;
  auto bad_probe = project;
  bad_probe["train"]["gate_probe_data"] = "validation";
  write_file(dir.file("bad-probe.json"), bad_probe.dump());
  expect_bad({"project", dir.file("bad-probe.json")}, {"bad-probe.json", "gate_probe_data \"validation\" is not a key of \"data\""});
  write_file(dir.file("bad.json"), R"({"model": "base", "data": {"x": {"task": "arith"}}, "suite": {}, "train": {}, "runs": [], "seeds": [], "extra": 1})");
  expect_bad({"project", dir.file("bad.json")}, {"bad.json", "unknown key \"extra\""});
}
