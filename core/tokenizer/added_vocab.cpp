#include "tokenizer/added_vocab.h"

#include <cctype>

#include "util/utf8.h"

namespace imsm {

namespace {
// Unicode White_Space (what the reference's trims remove).
bool is_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000 || cp == 0xFEFF;
}
uint32_t decode_one(std::string_view ch) {
  const auto* s = reinterpret_cast<const unsigned char*>(ch.data());
  if (ch.size() == 1) return s[0];
  uint32_t cp = s[0] & (0x7F >> ch.size());
  for (size_t i = 1; i < ch.size(); ++i) cp = (cp << 6) | (s[i] & 0x3F);
  return cp;
}
std::string trim_end(const std::string& s) {
  auto chars = utf8::characters(s);
  size_t e = chars.size();
  while (e > 0 && is_space(decode_one(chars[e - 1]))) --e;
  std::string out;
  for (size_t i = 0; i < e; ++i) out.append(chars[i]);
  return out;
}
std::string trim_start(const std::string& s) {
  auto chars = utf8::characters(s);
  size_t b = 0;
  while (b < chars.size() && is_space(decode_one(chars[b]))) ++b;
  std::string out;
  for (size_t i = b; i < chars.size(); ++i) out.append(chars[i]);
  return out;
}
bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }
}  // namespace

void AddedVocab::insert(Node& root, const std::string& text, size_t index) {
  Node* node = &root;
  for (const char c : text) {
    auto& child = node->next[static_cast<unsigned char>(c)];
    if (!child) child = std::make_unique<Node>();
    node = child.get();
  }
  if (node->token < 0) node->token = static_cast<int>(index);
}

std::vector<Segment> AddedVocab::split(const Node& root, std::string_view text) const {
  std::vector<Segment> out;
  std::vector<int> token_of;  // per segment: index into tokens_, or -1 for plain text
  size_t plain_start = 0, i = 0;
  while (i < text.size()) {
    // Longest token starting at i.
    const Node* node = &root;
    int match = -1;
    size_t match_end = 0;
    for (size_t j = i; j < text.size(); ++j) {
      const auto it = node->next.find(static_cast<unsigned char>(text[j]));
      if (it == node->next.end()) break;
      node = it->second.get();
      if (node->token >= 0) {
        match = node->token;
        match_end = j + 1;
      }
    }
    if (match >= 0 && tokens_[match].single_word) {
      const bool left_ok = i == 0 || !is_word_byte(static_cast<unsigned char>(text[i - 1]));
      const bool right_ok = match_end == text.size() || !is_word_byte(static_cast<unsigned char>(text[match_end]));
      if (!left_ok || !right_ok) match = -1;
    }
    if (match < 0) {
      i += static_cast<size_t>(utf8::sequence_length(static_cast<unsigned char>(text[i])));
      continue;
    }
    if (i > plain_start) {
      out.push_back({std::string(text.substr(plain_start, i - plain_start)), -1});
      token_of.push_back(-1);
    }
    out.push_back({tokens_[match].content, tokens_[match].id});
    token_of.push_back(match);
    i = plain_start = match_end;
  }
  if (plain_start < text.size()) {
    out.push_back({std::string(text.substr(plain_start)), -1});
    token_of.push_back(-1);
  }

  // lstrip / rstrip: the token swallows the whitespace beside it.
  for (size_t k = 0; k < out.size(); ++k) {
    if (token_of[k] < 0) continue;
    const AddedToken* t = &tokens_[token_of[k]];
    if (t->lstrip && k > 0 && out[k - 1].id < 0) out[k - 1].text = trim_end(out[k - 1].text);
    if (t->rstrip && k + 1 < out.size() && out[k + 1].id < 0) out[k + 1].text = trim_start(out[k + 1].text);
  }
  std::vector<Segment> kept;
  for (auto& s : out)
    if (!s.text.empty()) kept.push_back(std::move(s));
  return kept;
}

}  // namespace imsm
