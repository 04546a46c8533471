// Our tokenizers against the Hugging Face reference (the Python `tokenizers`
// package, run by tests/reference/tokenizer_reference.py over tests/tokenizer/corpus.jsonl):
// ids must be equal exactly, and so must decoded text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "io/json_file.h"
#include "tokenizer/tokenizer.h"

namespace {

const char* reference_path() {
  const char* p = std::getenv("IMSM_TOKENIZER_REFERENCE");
  return p ? p : "tokenizer_reference.json";
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (const auto id : ids) s += std::to_string(id) + " ";
  return s;
}

class TokenizerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerParity, IdsAndDecodeEqualReference) {
  const auto ref = imsm::json::read_file(reference_path());
  const nlohmann::json* entry = nullptr;
  for (const auto& t : ref["tokenizers"])
    if (t["name"] == GetParam()) entry = &t;
  ASSERT_NE(entry, nullptr) << "no reference for " << GetParam();
  const auto tokenizer = imsm::load_tokenizer((*entry)["dir"].get<std::string>());
  int checked = 0;
  for (const auto& c : (*entry)["cases"]) {
    const std::string text = c["text"];
    const auto ids = tokenizer->encode(text, true);
    const auto ids_plain = tokenizer->encode(text, false);
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const auto want_plain = c["ids_plain"].get<std::vector<int32_t>>();
    EXPECT_EQ(ids, want) << GetParam() << " text: " << text << "\n got: " << show(ids) << "\nwant: " << show(want);
    EXPECT_EQ(ids_plain, want_plain) << GetParam() << " (no special tokens) text: " << text;
    if (!want.empty()) {
      EXPECT_EQ(tokenizer->decode(want, false), c["decoded"].get<std::string>()) << GetParam() << " decode of: " << text;
      EXPECT_EQ(tokenizer->decode(want, true), c["decoded_skip"].get<std::string>()) << GetParam() << " decode (skip special) of: " << text;
    }
    ++checked;
  }
  EXPECT_GE(checked, 50);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerParity, ::testing::Values("llama3", "qwen3", "llama2", "gpt2-style", "metaspace", "trained-bpe"),
                         [](const auto& info) { std::string n = info.param; std::replace(n.begin(), n.end(), '-', '_'); return n; });

}  // namespace
