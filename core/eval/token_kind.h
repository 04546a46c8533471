// The kind of a token, for summaries of where IMSM's gate leans on the
// original memory (issue 36): special tokens (a template's markers, BOS/EOS),
// numbers, names, function words, punctuation, other words. Read from the
// token's text and the text before it: a piece that continues a word (no
// space before it, a letter or digit before that) takes the word's kind.
// Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

enum class TokenKind { Special, Number, Name, FunctionWord, Punctuation, Word };
constexpr int kTokenKinds = 6;

const char* token_kind_name(TokenKind kind);  // "special", "number", "name", "function word", "punctuation", "word"

// One token's text as the tokenizer decodes it alone (leading space kept) and
// whether the tokenizer marks it special.
struct TokenPiece {
  std::string text;
  bool special = false;
};

// The kinds of a sequence's tokens, in order. A number: any ASCII digit. A
// name: a word with an upper-case first letter that does not start a
// sentence (the text's first word, or after . ! ? : or a line break) and is
// not a function word. A function word: English's closed classes
// (determiners, pronouns, prepositions, conjunctions, auxiliaries), any case.
std::vector<TokenKind> classify_tokens(const std::vector<TokenPiece>& pieces);

// Per-token values (a gate's mean) grouped by part (prompt, answer) and kind.
struct KindTally {
  bool answer = false;
  TokenKind kind = TokenKind::Word;
  int64_t tokens = 0, rows = 0;
  double mean = 0;       // over the tokens
  double std_error = 0;  // the ratio estimator's, clustered by row (a row's tokens are not independent); 0 with one row
};

struct TokenValues {
  std::vector<TokenKind> kinds;
  std::vector<bool> answer;
  std::vector<double> values;
};

// The tallies of every (part, kind) that occurs, prompt before answer, in
// TokenKind's order. Each row's tokens are one cluster: mean = Σ s_r / Σ n_r,
// SE² = R/(R−1) · Σ_r (s_r − mean·n_r)² / (Σ n_r)², s_r and n_r the row's sum
// and count of that part and kind, R the rows that have it.
std::vector<KindTally> tally_by_kind(const std::vector<TokenValues>& rows);

}  // namespace imsm
