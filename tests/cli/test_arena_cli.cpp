// imsm arena: one conversation answered by the base model, an IMSM adapter's
// tuned memory alone and its mix. Each side is checked against another path
// to the same model: the base answer against imsm generate without any
// adapter, the tuned answer against the adapter's PEFT files loaded as a
// plain PEFT adapter, the IMSM answer against imsm generate with the IMSM
// adapter; greedy tokens are their stream's most likely candidate; the
// Markdown holds the conversation and the three answers; bad requests are
// one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_util.h"

using imsm::testing::TempDir;
using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {

const std::string kBundled = std::string(IMSM_SOURCE_DIR) + "/resources/models/wordnet-base";
const char* kTemplate =
    "{% for m in messages %}<|begin_of_text|>{{ m['role'] }}: {{ m['content'] }}<|end_of_text|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|begin_of_text|>assistant: {% endif %}";

std::string ids_text(const nlohmann::json& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + std::to_string(id.get<int>());
  return out;
}

nlohmann::json generated_ids(const std::vector<std::string>& extra, const nlohmann::json& prompt) {
  std::vector<std::string> args = {"generate", "--model", kBundled, "--prompt-ids", ids_text(prompt), "--max-new-tokens", "8", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const Result r = imsm_run(args);
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out)["ids"];
}

// An IMSM(LoRA) adapter of the bundled model, trained here for a few steps.
std::string trained_imsm_adapter(TempDir& dir) {
  std::string lines;
  for (int i = 0; i < 16; ++i) lines += "{\"input\": \"Repeat: dog " + std::to_string(i) + "\", \"output\": \"dog dog " + std::to_string(i) + "\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  write_file(dir.file("train.json"), nlohmann::json{{"model_path", kBundled}, {"data_path", dir.file("train.jsonl")}, {"peft", "lora"},
                                                    {"variant", "query"}, {"lora_r", 4}, {"gate_rank", 4}, {"learning_rate", 5e-3},
                                                    {"num_epochs", 2}, {"batch_size", 4}, {"output_dir", dir.file("run")}}.dump());
  const Result train = imsm_run({"train", "--config", dir.file("train.json")});
  EXPECT_EQ(train.code, 0) << train.err;
  return dir.file("run/adapter");
}

TEST(ArenaCli, TheThreeAnswersAreTheBaseTheAdapterAloneAndTheMix) {
  TempDir dir;
  const std::string adapter = trained_imsm_adapter(dir);
  write_file(dir.file("chat.jinja"), kTemplate);
  write_file(dir.file("conv.json"), R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Repeat: dog 3"}])");
  const Result arena = imsm_run({"arena", "--model", kBundled, "--adapter", adapter, "--chat", dir.file("conv.json"), "--chat-template",
                                 dir.file("chat.jinja"), "--max-new-tokens", "8", "--json", "--markdown", dir.file("turn.md")});
  ASSERT_EQ(arena.code, 0) << arena.err;
  const auto turn = nlohmann::json::parse(arena.out);
  const Result rendered = imsm_run({"tokenize", "--tokenizer", kBundled, "--chat", dir.file("conv.json"), "--chat-template",
                                    dir.file("chat.jinja"), "--add-generation-prompt"});
  EXPECT_EQ(turn["prompt_ids"], nlohmann::json::parse(rendered.out)["ids"]);
  const auto& prompt = turn["prompt_ids"];

  EXPECT_EQ(turn["base"]["ids"], generated_ids({}, prompt));  // no adapter loaded at all
  const std::string peft_only = dir.file("peft-only");  // the IMSM adapter's PEFT files alone: a plain LoRA adapter
  std::filesystem::create_directories(peft_only);
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
    std::filesystem::copy_file(adapter + "/" + f, peft_only + "/" + f);
  EXPECT_EQ(turn["tuned"]["ids"], generated_ids({"--adapter", peft_only}, prompt));
  EXPECT_EQ(turn["imsm"]["ids"], generated_ids({"--adapter", adapter}, prompt));
  EXPECT_NE(turn["base"]["ids"], turn["tuned"]["ids"]);  // the adapter learned something: the comparison is not empty

  const auto& trace = turn["imsm"]["trace"];
  ASSERT_EQ(trace.size(), turn["imsm"]["ids"].size());
  for (const auto& t : trace) {
    EXPECT_GT(t["gate_mean"].get<double>(), 0.0);
    EXPECT_LT(t["gate_mean"].get<double>(), 1.0);
    ASSERT_EQ(t["top_mixed"].size(), 5u);
    EXPECT_EQ(t["top_original"].size(), 5u);
    EXPECT_EQ(t["top_mixed"][0]["id"], t["id"]);  // greedy: the mix's most likely token
  }
  for (const auto& t : turn["base"]["trace"]) EXPECT_EQ(t["top_original"][0]["id"], t["id"]);  // the base: the original memory's choice
  for (const auto& t : turn["tuned"]["trace"]) EXPECT_EQ(t["top_tuned"][0]["id"], t["id"]);

  const std::string md = slurp(dir.file("turn.md"));
  for (const std::string& needle : {std::string("**user**: Repeat: dog 3"), std::string("### The base model"),
                                    std::string("### The adapter alone"), std::string("### IMSM"), std::string("mean gate"),
                                    turn["imsm"]["text"].get<std::string>(), turn["base"]["text"].get<std::string>()})
    EXPECT_NE(md.find(needle), std::string::npos) << needle << " not in:\n" << md;
}

TEST(ArenaCli, BadRequestsAreOneLine) {
  TempDir dir;
  write_file(dir.file("conv.json"), R"([{"role": "user", "content": "hi"}])");
  write_file(dir.file("answered.json"), R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])");
  const std::string adapter = trained_imsm_adapter(dir);
  const std::string peft_only = dir.file("peft-only");
  std::filesystem::create_directories(peft_only);
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
    std::filesystem::copy_file(adapter + "/" + f, peft_only + "/" + f);
  auto arena = [&](const std::string& with_adapter, const std::string& conv) {
    return std::vector<std::string>{"arena", "--model", kBundled, "--adapter", with_adapter, "--chat", dir.file(conv), "--max-new-tokens", "4"};
  };
  expect_bad(arena(peft_only, "conv.json"), {"peft-only", "IMSM adapter", "imsm generate"});
  expect_bad(arena(adapter, "answered.json"), {"conversation", "end with the user's turn"});
  std::vector<std::string> hot = arena(adapter, "conv.json");
  hot.insert(hot.end(), {"--top-p", "1.5"});
  expect_bad(hot, {"top_p", "(0, 1]"});
  expect_bad(arena(adapter, "missing.json"), {"missing.json"});
}

}  // namespace
