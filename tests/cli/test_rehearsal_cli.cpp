// Self-synthesized rehearsal end to end: the train key replay_self_examples
// makes the model's own set once beside the run (shared by the runs beside
// it), each answer what `imsm generate` says to its prompt; the set made by
// `imsm make-rehearsal` with the same settings is the same; the keys that
// contradict each other are one line. (Against transformers, on a model with
// a chat template: tests/reference/check_self_rehearsal.py.)
#include <nlohmann/json.hpp>

#include "cli_util.h"

using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The one self-rehearsal file under DIR/.imsm-cache ("" when none or several).
std::string rehearsal_file(const TempDir& dir) {
  std::vector<std::string> found;
  const auto cache = dir.path() / ".imsm-cache";
  if (std::filesystem::is_directory(cache))
    for (const auto& e : std::filesystem::directory_iterator(cache))
      if (e.path().filename().string().rfind("self-rehearsal-", 0) == 0) found.push_back(e.path().string());
  return found.size() == 1 ? found[0] : "";
}

nlohmann::json train_config(const TempDir& dir, const std::string& name) {
  return {{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")}, {"max_input_length", 128}, {"max_output_length", 8},
          {"peft", "lora"},  {"variant", "none"}, {"lora_r", 4}, {"lora_alpha", 8}, {"num_epochs", 1}, {"batch_size", 4},
          {"learning_rate", 1e-3}, {"replay_ratio", 0.25}, {"replay_self_examples", 6}, {"seed", 5}, {"output_dir", dir.file(name)}};
}

}  // namespace

TEST(RehearsalCli, TrainingReplaysTheModelsOwnAnswersMadeOnce) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 9; ++i) lines += "{\"input\": \"Repeat: dog " + std::to_string(i) + "\", \"output\": \"dog " + std::to_string(i) + "\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  write_file(dir.file("a.json"), train_config(dir, "a").dump());
  const Result a = imsm_run({"train", "--config", dir.file("a.json")});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.err.find("prompts sampled from the model"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("3/3"), std::string::npos) << "9 task rows, 3 a batch beside 1 replayed: 3 steps\n" << a.err;
  const std::string file = rehearsal_file(dir);
  ASSERT_FALSE(file.empty());
  const auto records = read_lines(file);
  ASSERT_EQ(records.size(), 6U);
  // No chat template (the random model has none): the prompt is sampled from BOS, the answer is greedy from it,
  // max_output_length tokens at most: what `imsm generate` says to the same text.
  for (size_t i = 0; i < 2; ++i) {
    const Result g = imsm_run({"generate", "--model", model_dir(), "--prompt", records[i]["input"], "--max-new-tokens", "8", "--json"});
    ASSERT_EQ(g.code, 0) << g.err;
    EXPECT_EQ(nlohmann::json::parse(g.out)["ids"], records[i]["answer_ids"]) << records[i].dump();
  }
  // A run beside it with the same model and settings reads the set instead of making it again.
  write_file(dir.file("b.json"), train_config(dir, "b").dump());
  const Result b = imsm_run({"train", "--config", dir.file("b.json")});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.err.find("6 records read from " + file), std::string::npos) << b.err;
  EXPECT_EQ(rehearsal_file(dir), file);
  // The command writes the same set for the same settings.
  const Result made = imsm_run({"make-rehearsal", "--model", model_dir(), "--out", dir.file("made.jsonl"), "--count", "6", "--seed", "5",
                                "--max-answer-tokens", "8", "--max-input-length", "128"});
  ASSERT_EQ(made.code, 0) << made.err;
  EXPECT_EQ(slurp(dir.file("made.jsonl")), slurp(file));
}

TEST(RehearsalCli, ContradictoryKeysAndBadRequestsAreOneLine) {
  TempDir dir;
  write_file(dir.file("train.jsonl"), "{\"input\": \"a\", \"output\": \"b\"}\n");
  auto config = train_config(dir, "run");
  config["replay_data"] = dir.file("train.jsonl");
  write_file(dir.file("both.json"), config.dump());
  expect_bad({"train", "--config", dir.file("both.json")}, {"both.json", "replay_data", "replay_self_examples", "keep one"});
  config.erase("replay_data");
  config["replay_ratio"] = 0;
  write_file(dir.file("no-ratio.json"), config.dump());
  expect_bad({"train", "--config", dir.file("no-ratio.json")}, {"no-ratio.json", "replay_self_examples", "replay_ratio"});
  expect_bad({"make-rehearsal", "--model", model_dir(), "--out", dir.file("x.jsonl"), "--count", "0"}, {"examples", "positive"});
  expect_bad({"make-rehearsal", "--model", model_dir(), "--out", dir.file("x.jsonl"), "--chat-template", "on"},
             {"--chat-template", "no chat template"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.jsonl")));
}
