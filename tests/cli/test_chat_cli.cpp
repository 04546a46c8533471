// imsm tokenize --chat and generate --chat: a conversation through a chat
// template (llama.cpp's Jinja engine; against transformers:
// tests/reference/check_chat_template.py), and the bad conversations and
// missing templates as one line each.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_util.h"

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

}  // namespace
