// Added tokens of tokenizer.json (special or not): found inside input text
// before the model runs, leftmost-longest, with lstrip/rstrip/single_word.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace imsm {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct Segment {
  std::string text;
  int32_t id = -1;  // >= 0: the segment is this added token
};

class AddedVocab {
 public:
  // `normalize` maps a token's content to its normalized form (for tokens with
  // normalized == true); pass identity when there is no normalizer.
  template <typename Normalize>
  AddedVocab(std::vector<AddedToken> tokens, Normalize normalize) : tokens_(std::move(tokens)) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      if (tokens_[i].content.empty()) continue;
      if (tokens_[i].normalized) insert(normalized_, normalize(tokens_[i].content), i);
      else insert(raw_, tokens_[i].content, i);
    }
  }

  // Splits raw input on tokens matched without normalization.
  std::vector<Segment> split_raw(std::string_view text) const { return split(raw_, text); }
  // Splits normalized text on tokens matched after normalization.
  std::vector<Segment> split_normalized(std::string_view text) const { return split(normalized_, text); }

  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Node {
    std::map<unsigned char, std::unique_ptr<Node>> next;
    int token = -1;  // index into tokens_ of a token ending here
  };
  static void insert(Node& root, const std::string& text, size_t index);
  std::vector<Segment> split(const Node& root, std::string_view text) const;

  std::vector<AddedToken> tokens_;
  Node raw_, normalized_;
};

}  // namespace imsm
