// tokenizer.model through libsentencepiece, against Debian's spm_encode /
// spm_decode tools on a model trained here with spm_train (Debian package sentencepiece).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tokenizer/tokenizer.h"
#include "test_util.h"

using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

const std::vector<std::string> kLines = {
    "The quick brown fox jumps over the lazy dog.",
    "A lighthouse is a tower with a light that gives warning of shoals to passing ships.",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Größe, Straße und schön; élève, garçon; 日本語のテキスト; emoji 🤗 stay as bytes.",
    "def add(a, b):    return a + b",
};

class SentencePiece : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::ofstream corpus(dir_->file("corpus.txt"));
    for (int i = 0; i < 40; ++i)
      for (const auto& l : kLines) corpus << l << " " << i << "\n";
    corpus.close();
    run("spm_train --input=" + dir_->file("corpus.txt") + " --model_prefix=" + dir_->file("tokenizer") +
        " --vocab_size=400 --model_type=bpe --byte_fallback=true --character_coverage=0.9995"
        " --normalization_rule_name=identity --minloglevel=2 2>/dev/null");
  }
  static void TearDownTestSuite() { delete dir_; }
  static TempDir* dir_;
};
TempDir* SentencePiece::dir_ = nullptr;

TEST_F(SentencePiece, IdsEqualSpmEncodeAndDecodeRoundTrips) {
  const std::string model = dir_->file("tokenizer.model");
  const auto tok = imsm::load_tokenizer(model);
  EXPECT_EQ(tok->kind(), "tokenizer.model: SentencePiece");
  EXPECT_EQ(tok->vocab_size(), 400);
  for (const auto& line : kLines) {
    write_file(dir_->file("line.txt"), line + "\n");
    std::istringstream ref(run("spm_encode --model=" + model + " --output_format=id < " + dir_->file("line.txt")));
    std::vector<int32_t> want;
    for (int id; ref >> id;) want.push_back(id);
    EXPECT_EQ(tok->encode(line, false), want) << line;
    // Decoding equals spm_decode (which also shows SentencePiece's whitespace folding).
    std::string ids_text;
    for (const int32_t id : want) ids_text += std::to_string(id) + " ";
    write_file(dir_->file("ids.txt"), ids_text + "\n");
    std::string decoded = run("spm_decode --model=" + model + " --input_format=id < " + dir_->file("ids.txt"));
    if (!decoded.empty() && decoded.back() == '\n') decoded.pop_back();
    EXPECT_EQ(tok->decode(want, true), decoded);
    // LlamaTokenizer's default: BOS first.
    const auto with_bos = tok->encode(line, true);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos[0], tok->bos_id());
  }
}

TEST_F(SentencePiece, FolderWithConfigAndOutOfRangeIds) {
  TempDir folder;
  std::ifstream src(dir_->file("tokenizer.model"), std::ios::binary);
  std::stringstream bytes;
  bytes << src.rdbuf();
  write_file(folder.file("tokenizer.model"), bytes.str());
  write_file(folder.file("tokenizer_config.json"), R"({"add_bos_token": false, "add_eos_token": true})");
  const auto tok = imsm::load_tokenizer(folder.path().string());
  const auto ids = tok->encode("the fox", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_NE(ids.front(), tok->bos_id());
  EXPECT_EQ(ids.back(), tok->eos_ids().at(0));
  imsm::testing::expect_bad_input([&] { tok->decode({100000}, false); }, {"100000", "outside the vocabulary"});
}

}  // namespace
