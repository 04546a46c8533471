// Tokenizer pieces against hand-computed expectations.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"
#include "util/error.h"
#include "util/utf8.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

TEST(ByteLevel, Gpt2Table) {
  EXPECT_EQ(imsm::byte_level::encode(" "), "\xC4\xA0");     // U+0120 'Ġ'
  EXPECT_EQ(imsm::byte_level::encode("\n"), "\xC4\x8A");    // U+010A 'Ċ'
  EXPECT_EQ(imsm::byte_level::encode("A"), "A");
  EXPECT_EQ(imsm::byte_level::encode(std::string(1, '\0')), "\xC4\x80");  // U+0100
  EXPECT_EQ(imsm::byte_level::encode("\xFF"), "\xC3\xBF");  // U+00FF 'ÿ' maps to itself
  const std::string all = [] {
    std::string s;
    for (int b = 0; b < 256; ++b) s += static_cast<char>(b);
    return s;
  }();
  EXPECT_EQ(imsm::byte_level::decode(imsm::byte_level::encode(all)), all);
}

TEST(Utf8, LossyRepair) {
  EXPECT_TRUE(imsm::utf8::is_valid("héllo 🤗"));
  EXPECT_FALSE(imsm::utf8::is_valid("\xC3"));
  EXPECT_EQ(imsm::utf8::make_valid("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(imsm::utf8::characters("aé🤗").size(), 3u);
}

// Escaped: bytes that are not UTF-8 and control characters (ASCII, C1); kept: every valid character.
TEST(Utf8, PrintableEscapesWhatATerminalWouldObey) {
  EXPECT_EQ(imsm::utf8::printable("héllo 🤗 α"), "héllo 🤗 α");
  EXPECT_EQ(imsm::utf8::printable("a\xFF" "b\xC3"), "a\\xFFb\\xC3");
  EXPECT_EQ(imsm::utf8::printable("x\n\r\t\x1B[31m\x7F"), "x\\n\\r\\t\\x1B[31m\\x7F");
  EXPECT_EQ(imsm::utf8::printable("\xC2\x85\xC2\xA0"), "\\u0085\xC2\xA0");  // NEL escaped, no-break space kept
  try {
    imsm::throw_bad_input("data.jsonl:3", "unknown field \"\xFF\x07\"");
  } catch (const imsm::Error& e) {
    EXPECT_STREQ(e.what(), "data.jsonl:3: unknown field \"\\xFF\\x07\"");
  }
}

// A hand-made BPE: merges "a b" (rank 0), "b c" (rank 1), "ab c" (rank 2).
std::string tiny_tokenizer_json(bool byte_fallback) {
  return std::string(R"({"version":"1.0","added_tokens":[{"id":9,"content":"<s>","special":true,"normalized":false}],
    "normalizer":null,"pre_tokenizer":{"type":"WhitespaceSplit"},
    "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
      "pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[9],"tokens":["<s>"]}}},
    "decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"}]},
    "model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":)") +
         (byte_fallback ? "true" : "false") + R"(,
      "vocab":{"a":0,"b":1,"c":2,"ab":3,"bc":4,"abc":5,"<unk>":6,"<0xC3>":7,"<0xA9>":8},
      "merges":["a b","b c","ab c"]}})";
}

TEST(Bpe, MergesByRankThenLeftmost) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), tiny_tokenizer_json(true));
  const auto t = imsm::load_tokenizer(dir.file("tokenizer.json"));
  EXPECT_EQ(t->encode("abc", false), (std::vector<int32_t>{5}));        // a b c -> ab c -> abc
  EXPECT_EQ(t->encode("bcab", false), (std::vector<int32_t>{4, 3}));    // "a b" (rank 0) first, then "b c"
  EXPECT_EQ(t->encode("abc bc", true), (std::vector<int32_t>{9, 5, 4}));  // BOS from the template
  EXPECT_EQ(t->encode("<s>ab", false), (std::vector<int32_t>{9, 3}));   // special text is matched
  EXPECT_EQ(t->encode("\xC3\xA9", false), (std::vector<int32_t>{7, 8})); // 'é' -> <0xC3> <0xA9>
  EXPECT_EQ(t->decode({7, 8, 0}, false), "\xC3\xA9" "a");
  EXPECT_EQ(t->decode({9, 5}, true), "abc");
  EXPECT_EQ(t->bos_id(), -1);  // no tokenizer_config.json here
  expect_bad_input([&] { t->decode({42}, false); }, {"token id 42 is outside the vocabulary"});
}

TEST(Bpe, UnknownCharactersFuseIntoOneUnk) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), tiny_tokenizer_json(false));
  const auto t = imsm::load_tokenizer(dir.file("tokenizer.json"));
  EXPECT_EQ(t->encode("axyb", false), (std::vector<int32_t>{0, 6, 1}));  // x y -> one fused <unk>
}

TEST(Tokenizer, ReadsTokenizerConfigSpecialTokens) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), tiny_tokenizer_json(true));
  write_file(dir.file("tokenizer_config.json"), R"({"add_bos_token": false, "bos_token": "<s>", "eos_token": {"content": "c"}})");
  const auto t = imsm::load_tokenizer(dir.path().string());
  EXPECT_EQ(t->bos_id(), 9);
  EXPECT_EQ(t->eos_ids(), (std::vector<int32_t>{2}));
  EXPECT_EQ(t->encode("ab", true), (std::vector<int32_t>{3}));  // add_bos_token false removes the template's BOS
}

TEST(Tokenizer, BadFilesNameTheProblem) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), "{\n  \"model\": {\"type\": \"BPE\",\n  }\n}");
  expect_bad_input([&] { imsm::load_tokenizer(dir.file("tokenizer.json")); }, {"tokenizer.json:3:", "malformed JSON"});
  write_file(dir.file("tokenizer.json"), R"({"model":{"type":"WordPiece","vocab":{}}})");
  expect_bad_input([&] { imsm::load_tokenizer(dir.file("tokenizer.json")); }, {"tokenizer.json", "model type \"WordPiece\""});
  write_file(dir.file("tokenizer.json"), R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Magic"}})");
  expect_bad_input([&] { imsm::load_tokenizer(dir.file("tokenizer.json")); }, {"pre_tokenizer type \"Magic\""});
  write_file(dir.file("tokenizer.json"), R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a q"]}})");
  expect_bad_input([&] { imsm::load_tokenizer(dir.file("tokenizer.json")); }, {"merge \"a q\"", "not in the vocabulary"});
  expect_bad_input([&] { imsm::load_tokenizer(dir.path().string() + "/nothing"); }, {"nothing"});
  write_file(dir.file("tokenizer.model"), "not a protobuf");
  expect_bad_input([&] { imsm::load_tokenizer(dir.file("tokenizer.model")); }, {"tokenizer.model", "not a SentencePiece model"});
}

}  // namespace

namespace {

// Arbitrary bytes (invalid UTF-8 included) never crash the tokenizer; valid
// text round-trips through encode and decode.
TEST(Tokenizer, ArbitraryBytesAreSafe) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), tiny_tokenizer_json(true));
  const auto t = imsm::load_tokenizer(dir.file("tokenizer.json"));
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    const auto ids = t->encode(s, true);
    for (const auto id : ids) EXPECT_TRUE(id >= 0 && id < t->vocab_size());
    t->decode(ids, false);
  }
}

}  // namespace

#include "io/json_file.h"
#include "tokenizer/bpe_trainer.h"

// Merges worked out by hand: pre-tokens "aaa" x1, "Ġaaa" x2, "ab" x1, "Ġab" x1.
// (a,a) 2+4 = 6 -> "a a"; then (aa,a) 1+2 = 3 -> "aa a"; then (a,b) and
// (Ġ,aaa) both 2: "a" sorts before "Ġ" -> "a b"; then (Ġ,aaa) 2 -> "Ġ aaa";
// (Ġ,ab) 1 is under min_frequency 2: training stops.
TEST(BpeTrainer, MergesWorkedOutByHandAndTheLoaderReadsTheResult) {
  imsm::BpeTrainOptions o;
  o.vocab_size = 1000;
  const auto m = imsm::train_bpe({"aaa aaa aaa", "ab ab"}, o);
  const std::string G = "\xC4\xA0";  // "Ġ", the byte-level space
  ASSERT_EQ(m.merges.size(), 4u);
  EXPECT_EQ(m.merges[0], (std::pair<std::string, std::string>{"a", "a"}));
  EXPECT_EQ(m.merges[1], (std::pair<std::string, std::string>{"aa", "a"}));
  EXPECT_EQ(m.merges[2], (std::pair<std::string, std::string>{"a", "b"}));
  EXPECT_EQ(m.merges[3], (std::pair<std::string, std::string>{G, "aaa"}));
  EXPECT_EQ(m.vocab.size(), 256u + 4u + 3u);

  imsm::testing::TempDir dir;
  imsm::json::write_text_atomically(dir.file("tokenizer.json"), imsm::tokenizer_json(m, o).dump());
  imsm::json::write_text_atomically(dir.file("tokenizer_config.json"), imsm::tokenizer_config_json(o).dump());
  const auto tok = imsm::load_tokenizer(dir.path().string());
  const auto ids = tok->encode("aaa ab", true);
  // Ids: bytes 0-255 in byte order, merges 256 "aa", 257 "aaa", 258 "ab", 259 "Ġaaa", specials 260-262.
  // "aaa ab" -> pre-tokens "aaa", "Ġab" -> BOS 260, 257, "Ġ" (byte 0x20: 32), 258 (no "Ġ ab" merge).
  EXPECT_EQ(ids, (std::vector<int32_t>{260, 257, 32, 258}));
  EXPECT_EQ(tok->decode(ids, true), "aaa ab");
  EXPECT_EQ(tok->eos_ids(), (std::vector<int32_t>{261}));
  // Any text round-trips: unseen bytes fall back to the 256 byte symbols.
  const std::string text = "Zebra crossing, 42°C — naïve 東京 🚀";
  EXPECT_EQ(tok->decode(tok->encode(text, false), true), text);
  expect_bad_input([] { imsm::BpeTrainOptions small; small.vocab_size = 100; imsm::train_bpe({"x"}, small); }, {"vocab_size"});
}
