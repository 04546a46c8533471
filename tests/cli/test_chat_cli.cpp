// imsm tokenize --chat and generate --chat: a conversation through a chat
// template (llama.cpp's Jinja engine; against transformers:
// tests/reference/check_chat_template.py), and the bad conversations and
// missing templates as one line each. Training and evaluation in the chat
// format ("chat_template"; the rows against transformers:
// tests/reference/check_chat_training.py): what a run logs and records, and
// bad keys as one line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "io/json_file.h"

using imsm::testing::TempDir;
using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {

const std::string kBundled = std::string(IMSM_SOURCE_DIR) + "/resources/models/wordnet-base";

TEST(ChatCli, ATemplateFileRendersTheConversationAndItsIdsAreTheTextsWithoutAddedTokens) {
  TempDir dir;
  write_file(dir.file("conv.json"), R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})");
  // A ChatML-like template written here; the bundled model has none of its own.
  write_file(dir.file("chat.jinja"),
             "{% for m in messages %}<|begin_of_text|>{{ m['role'] }}: {{ m['content'] | trim }}\n{% endfor %}"
             "{% if add_generation_prompt %}assistant:{% endif %}");
  const Result r = imsm_run({"tokenize", "--tokenizer", kBundled, "--chat", dir.file("conv.json"), "--chat-template", dir.file("chat.jinja"),
                             "--add-generation-prompt"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], "<|begin_of_text|>system: Be brief.\n<|begin_of_text|>user: Hi\nassistant:");
  const Result plain = imsm_run({"tokenize", "--tokenizer", kBundled, "--no-special-tokens", "--text", j["text"].get<std::string>()});
  EXPECT_EQ(j["ids"], nlohmann::json::parse(plain.out)["ids"]);
  EXPECT_EQ(j["ids"][0], 2045);  // <|begin_of_text|> written by the template, matched as the special token

  // generate --chat answers the rendered conversation with the generation prompt: the ids above as the prompt.
  const Result chat = imsm_run({"generate", "--model", kBundled, "--chat", dir.file("conv.json"), "--chat-template", dir.file("chat.jinja"),
                                "--max-new-tokens", "6", "--json"});
  ASSERT_EQ(chat.code, 0) << chat.err;
  std::string ids;
  for (const auto& id : j["ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  const Result by_ids = imsm_run({"generate", "--model", kBundled, "--prompt-ids", ids, "--max-new-tokens", "6", "--json"});
  EXPECT_EQ(nlohmann::json::parse(chat.out)["ids"], nlohmann::json::parse(by_ids.out)["ids"]);
}

TEST(ChatCli, BadConversationsAndMissingTemplatesAreOneLine) {
  TempDir dir;
  write_file(dir.file("role.json"), "[\n  {\"role\": \"user\", \"content\": \"x\"},\n  {\"role\": \"bot\", \"content\": \"y\"}\n]\n");
  write_file(dir.file("content.json"), "[\n  {\"role\": \"user\"}\n]\n");
  write_file(dir.file("broken.json"), "[{\"role\": \"user\", ");
  write_file(dir.file("ok.json"), "[{\"role\": \"user\", \"content\": \"hi\"}]");
  write_file(dir.file("bad.jinja"), "{% for m in messages %}{{ m.content ");
  const std::vector<std::string> chat = {"tokenize", "--tokenizer", kBundled, "--chat-template", dir.file("bad.jinja"), "--chat"};
  auto with = [&](const std::string& file) {
    std::vector<std::string> a = {"tokenize", "--tokenizer", kBundled, "--chat", dir.file(file)};
    return a;
  };
  expect_bad(with("role.json"), {"role.json:3: message 2", "\"bot\"", "system, user or assistant"});
  expect_bad(with("content.json"), {"content.json:2: message 1", "\"content\""});
  expect_bad(with("broken.json"), {"broken.json", "malformed JSON"});
  expect_bad(with("ok.json"), {"wordnet-base", "no chat template", "--chat-template"});
  std::vector<std::string> bad_template = chat;
  bad_template.push_back(dir.file("ok.json"));
  expect_bad(bad_template, {"bad.jinja", "chat template cannot be applied"});
}

// A ChatML-like template for the bundled model, which has none of its own.
const char* kTemplate =
    "{% for m in messages %}<|begin_of_text|>{{ m['role'] }}: {{ m['content'] }}<|end_of_text|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|begin_of_text|>assistant: {% endif %}";

TEST(ChatCli, ARunInTheChatFormatTrainsOnTheAnswerLogsTheTemplateAndRecordsIt) {
  TempDir dir;
  write_file(dir.file("chat.jinja"), kTemplate);
  std::string lines;
  for (int i = 0; i < 8; ++i) lines += "{\"input\": \"Repeat: cat " + std::to_string(i) + "\", \"output\": \"cat " + std::to_string(i) + "\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  // The rows: the prompt as a user turn and the assistant's header, unlabelled; the answer and its end of turn labelled.
  const Result rows = imsm_run({"tokenize", "--tokenizer", kBundled, "--examples", dir.file("train.jsonl"), "--chat-template",
                                dir.file("chat.jinja"), "--limit", "1"});
  ASSERT_EQ(rows.code, 0) << rows.err;
  const auto row = nlohmann::json::parse(rows.out);
  const Result prompt = imsm_run({"tokenize", "--tokenizer", kBundled, "--no-special-tokens", "--text",
                                  "<|begin_of_text|>user: Repeat: cat 0<|end_of_text|>\n<|begin_of_text|>assistant: "});
  const Result answer = imsm_run({"tokenize", "--tokenizer", kBundled, "--no-special-tokens", "--text", "cat 0<|end_of_text|>"});
  const auto prompt_ids = nlohmann::json::parse(prompt.out)["ids"], answer_ids = nlohmann::json::parse(answer.out)["ids"];
  EXPECT_EQ(row["query_len"], prompt_ids.size());
  nlohmann::json ids = prompt_ids, labels = nlohmann::json::array();
  for (const auto& id : answer_ids) ids.push_back(id);
  for (size_t i = 0; i < prompt_ids.size(); ++i) labels.push_back(-100);
  for (const auto& id : answer_ids) labels.push_back(id);
  EXPECT_EQ(row["ids"], ids);  // the template's "\n" after the last <|end_of_text|> is not in the row
  EXPECT_EQ(row["labels"], labels);
  // auto on a model without a template: the official rows.
  const Result automatic = imsm_run({"tokenize", "--tokenizer", kBundled, "--examples", dir.file("train.jsonl"), "--limit", "1"});
  const Result off = imsm_run({"tokenize", "--tokenizer", kBundled, "--examples", dir.file("train.jsonl"), "--limit", "1", "--chat-template", "off"});
  EXPECT_EQ(automatic.out, off.out);
  EXPECT_NE(automatic.out, rows.out);
  // Evaluation prompts the same way: its answer is the one generated from the rendered prompt's ids.
  const Result eval = imsm_run({"eval", "--model", kBundled, "--dataset", dir.file("train.jsonl"), "--task", "webq", "--limit", "1",
                                "--max-new-tokens", "4", "--chat-template", dir.file("chat.jinja"), "--predictions", dir.file("p.jsonl")});
  ASSERT_EQ(eval.code, 0) << eval.err;
  std::string ids_text;
  for (const auto& id : prompt_ids) ids_text += (ids_text.empty() ? "" : ",") + std::to_string(id.get<int>());
  const Result by_ids = imsm_run({"generate", "--model", kBundled, "--prompt-ids", ids_text, "--max-new-tokens", "4", "--json"});
  ASSERT_EQ(by_ids.code, 0) << by_ids.err;
  const std::string predictions = slurp(dir.file("p.jsonl"));
  const auto prediction = nlohmann::json::parse(predictions.substr(0, predictions.find('\n')));
  EXPECT_EQ(prediction["answer"], nlohmann::json::parse(by_ids.out)["text"]) << eval.err;

  write_file(dir.file("train.json"), nlohmann::json{{"model_path", kBundled}, {"data_path", dir.file("train.jsonl")},
                                                    {"chat_template", dir.file("chat.jinja")}, {"peft", "lora"}, {"variant", "none"},
                                                    {"num_epochs", 1}, {"batch_size", 4}, {"output_dir", dir.file("run")}}.dump());
  const Result train = imsm_run({"train", "--config", dir.file("train.json")});
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_NE(train.err.find("chat template: " + dir.file("chat.jinja")), std::string::npos) << train.err;
  EXPECT_EQ(imsm::json::read_file(dir.file("run/train_config.json"))["chat_template"], dir.file("chat.jinja"));
  // Without the key, a model without a template trains on bare prompts and says so; the config records "off".
  const Result bare = imsm_run({"train", "--config", dir.file("train.json"), "--set", "chat_template=auto", "--set",
                                "output_dir=" + dir.file("bare")});
  ASSERT_EQ(bare.code, 0) << bare.err;
  EXPECT_NE(bare.err.find("chat template: none in the model"), std::string::npos) << bare.err;
  EXPECT_EQ(imsm::json::read_file(dir.file("bare/train_config.json"))["chat_template"], "off");
}

TEST(ChatCli, BadChatTemplateKeysAreOneLine) {
  TempDir dir;
  write_file(dir.file("train.jsonl"), "{\"input\": \"a\", \"output\": \"b\"}\n");
  const std::vector<std::string> rows = {"tokenize", "--tokenizer", kBundled, "--examples", dir.file("train.jsonl"), "--chat-template"};
  auto with = [&](const std::string& value) {
    std::vector<std::string> a = rows;
    a.push_back(value);
    return a;
  };
  expect_bad(with("on"), {"wordnet-base", "no chat template", "chat_template"});
  expect_bad(with(dir.file("missing.jinja")), {"missing.jinja", "cannot open"});
  write_file(dir.file("train.json"), nlohmann::json{{"model_path", kBundled}, {"data_path", dir.file("train.jsonl")},
                                                    {"chat_template", ""}, {"output_dir", dir.file("run")}}.dump());
  expect_bad({"train", "--config", dir.file("train.json")}, {"train.json", "\"chat_template\" is empty"});
  write_file(dir.file("train.json"), nlohmann::json{{"model_path", kBundled}, {"data_path", dir.file("train.jsonl")},
                                                    {"chat_template", 3}, {"output_dir", dir.file("run")}}.dump());
  expect_bad({"train", "--config", dir.file("train.json")}, {"train.json", "chat_template"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

}  // namespace
