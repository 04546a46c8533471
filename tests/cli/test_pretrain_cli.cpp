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
  for (const char* task : {"arith", "wordnet-qa", "wordnet-yesno"}) {
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
