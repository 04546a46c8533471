// Token kinds and their tallies (eval/token_kind.h), against kinds and
// clustered standard errors worked out by hand.
#include <gtest/gtest.h>

#include "eval/token_kind.h"

using imsm::TokenKind;

TEST(TokenKind, WordsTakeTheKindOfTheirFirstPieceAndSentencesStartAfterStops) {
  const std::vector<imsm::TokenPiece> pieces = {
      {"<s>", true}, {" The", false}, {" cat", false}, {" Wash", false}, {"ington", false}, {" saw", false}, {" 19", false},
      {"84", false}, {" cars", false}, {".", false}, {" Paris", false}, {" is", false}, {" Bob", false}, {"!", false},
      {" \n", false}, {"Alice", false}, {" said", false}, {":", false}, {" London", false}, {"'s", false}, {" OF", false},
      {"\xE2\x96\x81Rome", false}, {"<|im_end|>", true}, {"Sue", false}};
  const std::vector<TokenKind> want = {
      TokenKind::Special, TokenKind::FunctionWord, TokenKind::Word, TokenKind::Name, TokenKind::Name, TokenKind::Word,
      TokenKind::Number, TokenKind::Number, TokenKind::Word, TokenKind::Punctuation,
      TokenKind::Word,  // "Paris" starts a sentence: a capital there says nothing
      TokenKind::FunctionWord, TokenKind::Name, TokenKind::Punctuation, TokenKind::Punctuation,
      TokenKind::Word,  // after a line break
      TokenKind::Word, TokenKind::Punctuation,
      TokenKind::Word,  // after a colon
      TokenKind::Word,  // "'s" is no word of the list, and no capital
      TokenKind::FunctionWord,  // any case
      TokenKind::Name,  // SentencePiece's space
      TokenKind::Special,
      TokenKind::Word};  // a special token ends what came before
  const std::vector<TokenKind> got = imsm::classify_tokens(pieces);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(got[i], want[i]) << i << " \"" << pieces[i].text << "\": " << imsm::token_kind_name(got[i]) << ", want "
                               << imsm::token_kind_name(want[i]);
}

TEST(TokenKind, TalliesAreClusteredByRow) {
  // Row A: prompt word 0.2; answer word 0.4, number 0.6. Row B: prompt word 0.5; answer numbers 0.1, 0.3.
  const std::vector<imsm::TokenValues> rows = {
      {{TokenKind::Word, TokenKind::Word, TokenKind::Number}, {false, true, true}, {0.2, 0.4, 0.6}},
      {{TokenKind::Word, TokenKind::Number, TokenKind::Number}, {false, true, true}, {0.5, 0.1, 0.3}}};
  const auto t = imsm::tally_by_kind(rows);
  ASSERT_EQ(t.size(), 3U);
  // Prompt words: (0.2 + 0.5) / 2 = 0.35; SE² = 2/1 · (0.15² + 0.15²) / 2² = 0.0225.
  EXPECT_FALSE(t[0].answer);
  EXPECT_EQ(t[0].kind, TokenKind::Word);
  EXPECT_EQ(t[0].tokens, 2);
  EXPECT_EQ(t[0].rows, 2);
  EXPECT_NEAR(t[0].mean, 0.35, 1e-12);
  EXPECT_NEAR(t[0].std_error, 0.15, 1e-12);
  // Answer numbers: (0.6 + 0.4) / 3 = 1/3; residuals 0.6 − 1/3 and 0.4 − 2/3 = ±4/15; SE² = 2 · 2 · (4/15)² / 3² = 64/2025.
  EXPECT_TRUE(t[1].answer);
  EXPECT_EQ(t[1].kind, TokenKind::Number);
  EXPECT_EQ(t[1].tokens, 3);
  EXPECT_EQ(t[1].rows, 2);
  EXPECT_NEAR(t[1].mean, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(t[1].std_error, 8.0 / 45.0, 1e-12);
  // Answer words: one row, one token: no spread to estimate.
  EXPECT_EQ(t[2].kind, TokenKind::Word);
  EXPECT_EQ(t[2].rows, 1);
  EXPECT_NEAR(t[2].mean, 0.4, 1e-12);
  EXPECT_EQ(t[2].std_error, 0);
}
