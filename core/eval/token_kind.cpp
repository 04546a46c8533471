#include "eval/token_kind.h"

#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace imsm {

namespace {

// English's closed word classes, lower case.
const std::set<std::string>& function_words() {
  static const std::set<std::string> words = {
      // determiners and quantifiers
      "a", "an", "the", "this", "that", "these", "those", "some", "any", "no", "every", "each", "all", "both", "either", "neither",
      "much", "many", "more", "most", "few", "less", "other", "such", "what", "which", "whose",
      // pronouns
      "i", "me", "my", "mine", "you", "your", "yours", "he", "him", "his", "she", "her", "hers", "it", "its", "we", "us", "our",
      "ours", "they", "them", "their", "theirs", "who", "whom", "myself", "yourself", "himself", "herself", "itself", "themselves",
      "one", "there",
      // prepositions
      "of", "in", "on", "at", "to", "for", "with", "by", "from", "about", "as", "into", "onto", "over", "under", "after", "before",
      "between", "through", "during", "without", "within", "against", "among", "upon", "off", "up", "down", "out", "than",
      // conjunctions
      "and", "or", "but", "nor", "so", "yet", "if", "because", "while", "although", "though", "when", "where", "whether", "how", "why",
      // auxiliaries and modals
      "is", "am", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had", "will", "would", "shall",
      "should", "can", "could", "may", "might", "must", "not", "n't"};
  return words;
}

bool is_letter(unsigned char c) { return std::isalpha(c) || c >= 0x80; }  // UTF-8 bytes count as letters
bool is_word_char(unsigned char c) { return is_letter(c) || std::isdigit(c); }

// The piece without its leading spaces (and SentencePiece's ▁, U+2581).
std::string stripped(const std::string& text, bool& spaced) {
  size_t i = 0;
  spaced = false;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
      i += 3;
    } else {
      break;
    }
    spaced = true;
  }
  return text.substr(i);
}

TokenKind word_kind(const std::string& word, bool starts_sentence) {
  for (const char c : word)
    if (std::isdigit(static_cast<unsigned char>(c))) return TokenKind::Number;
  bool any_letter = false;
  std::string lower;
  for (const char c : word) {
    any_letter = any_letter || is_letter(static_cast<unsigned char>(c));
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!any_letter) return TokenKind::Punctuation;
  size_t end = lower.size();
  while (end > 0 && !is_word_char(static_cast<unsigned char>(lower[end - 1]))) --end;  // "the," -> "the"
  size_t begin = 0;
  while (begin < end && !is_word_char(static_cast<unsigned char>(lower[begin]))) ++begin;
  if (function_words().count(lower.substr(begin, end - begin))) return TokenKind::FunctionWord;
  const auto first = static_cast<unsigned char>(word[begin]);
  return std::isupper(first) && !starts_sentence ? TokenKind::Name : TokenKind::Word;
}

}  // namespace

const char* token_kind_name(TokenKind kind) {
  static const char* names[kTokenKinds] = {"special", "number", "name", "function word", "punctuation", "word"};
  return names[static_cast<int>(kind)];
}

std::vector<TokenKind> classify_tokens(const std::vector<TokenPiece>& pieces) {
  std::vector<TokenKind> kinds;
  bool sentence_start = true;    // the next word starts a sentence
  bool in_word = false;          // the text so far ends inside a word
  TokenKind word = TokenKind::Word;
  for (const TokenPiece& p : pieces) {
    if (p.special) {
      kinds.push_back(TokenKind::Special);
      sentence_start = true, in_word = false;
      continue;
    }
    bool spaced = false;
    const std::string body = stripped(p.text, spaced);
    const bool line_break = p.text.find('\n') != std::string::npos;
    if (body.empty()) {
      kinds.push_back(TokenKind::Punctuation);  // white space alone
      sentence_start = sentence_start || line_break, in_word = false;
      continue;
    }
    const bool continues = in_word && !spaced && is_word_char(static_cast<unsigned char>(body[0]));
    if (!continues) word = word_kind(body, sentence_start || line_break);  // a word's later pieces take its first piece's kind
    kinds.push_back(word);
    const char last = body.back();
    in_word = is_word_char(static_cast<unsigned char>(last));
    if (last == '.' || last == '!' || last == '?' || last == ':') sentence_start = true;
    else if (is_word_char(static_cast<unsigned char>(last))) sentence_start = false;
  }
  return kinds;
}

std::vector<KindTally> tally_by_kind(const std::vector<TokenValues>& rows) {
  struct Cluster { double sum = 0; int64_t n = 0; };
  std::map<std::pair<bool, int>, std::vector<Cluster>> clusters;  // (answer, kind) -> one per row that has it
  for (const TokenValues& row : rows) {
    std::map<std::pair<bool, int>, Cluster> here;
    for (size_t t = 0; t < row.values.size(); ++t) {
      Cluster& c = here[{row.answer[t], static_cast<int>(row.kinds[t])}];
      c.sum += row.values[t];
      ++c.n;
    }
    for (const auto& [key, c] : here) clusters[key].push_back(c);
  }
  std::vector<KindTally> out;
  for (const auto& [key, list] : clusters) {  // ordered: prompt (false) first, then the kind's order
    KindTally t;
    t.answer = key.first;
    t.kind = static_cast<TokenKind>(key.second);
    t.rows = static_cast<int64_t>(list.size());
    double sum = 0;
    for (const Cluster& c : list) sum += c.sum, t.tokens += c.n;
    t.mean = sum / static_cast<double>(t.tokens);
    if (t.rows > 1) {
      double squares = 0;
      for (const Cluster& c : list) squares += std::pow(c.sum - t.mean * static_cast<double>(c.n), 2);
      const auto r = static_cast<double>(t.rows), n = static_cast<double>(t.tokens);
      t.std_error = std::sqrt(r / (r - 1) * squares / (n * n));
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace imsm
