#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/pattern.h"
#include "util/error.h"

namespace imsm {

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  throw_bad_input(where, "unknown split behavior \"" + name + "\"");
}

// Splits `word` at the matches of `pattern` as the reference's split() does.
void split_word(const std::string& word, const Pattern& pattern, Behavior behavior, bool invert,
                std::vector<std::string>& out) {
  struct Piece {
    size_t begin, end;
    bool match;
  };
  std::vector<Piece> pieces;
  size_t cursor = 0;
  for (const auto& [b, e] : pattern.find_all(word)) {
    if (b > cursor) pieces.push_back({cursor, b, invert});
    pieces.push_back({b, e, !invert});
    cursor = e;
  }
  if (cursor < word.size()) pieces.push_back({cursor, word.size(), invert});

  std::vector<std::string> result;
  bool pending_next = false;  // MergedWithNext: a delimiter waits for the next piece
  bool last_was_match = false;
  for (const Piece& p : pieces) {
    const std::string text = word.substr(p.begin, p.end - p.begin);
    switch (behavior) {
      case Behavior::Removed:
        if (!p.match) result.push_back(text);
        break;
      case Behavior::Isolated:
        result.push_back(text);
        break;
      case Behavior::MergedWithPrevious:
        if (p.match && !result.empty() && !last_was_match) result.back() += text;
        else result.push_back(text);
        break;
      case Behavior::MergedWithNext:
        if (pending_next) result.back() += text;
        else result.push_back(text);
        pending_next = p.match;
        break;
      case Behavior::Contiguous:
        if (p.match && last_was_match && !result.empty()) result.back() += text;
        else result.push_back(text);
        break;
    }
    last_was_match = p.match;
  }
  for (auto& r : result)
    if (!r.empty()) out.push_back(std::move(r));
}

const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(const nlohmann::json& spec, const std::string& where)
      : add_prefix_space_(spec.value("add_prefix_space", false)), use_regex_(spec.value("use_regex", true)),
        regex_(nlohmann::json{{"Regex", kGpt2Regex}}, where) {}
  std::vector<std::string> split(std::vector<std::string> words, bool first_section) const override {
    std::vector<std::string> out;
    for (auto& w : words) {
      if (add_prefix_space_ && (w.empty() || w[0] != ' ')) w = " " + w;
      std::vector<std::string> parts;
      if (use_regex_) split_word(w, regex_, Behavior::Isolated, false, parts);
      else parts.push_back(w);
      for (const auto& p : parts) out.push_back(byte_level::encode(p));
    }
    return out;
  }

 private:
  bool add_prefix_space_, use_regex_;
  Pattern regex_;
};

class Split : public PreTokenizer {
 public:
  Split(const nlohmann::json& spec, const std::string& where)
      : pattern_(spec.value("pattern", nlohmann::json()), where + " (Split pattern)"),
        behavior_(parse_behavior(spec.value("behavior", "Isolated"), where)),
        invert_(spec.value("invert", false)) {}
  std::vector<std::string> split(std::vector<std::string> words, bool) const override {
    std::vector<std::string> out;
    for (const auto& w : words) split_word(w, pattern_, behavior_, invert_, out);
    return out;
  }

 private:
  Pattern pattern_;
  Behavior behavior_;
  bool invert_;
};

class Metaspace : public PreTokenizer {
 public:
  Metaspace(const nlohmann::json& spec, const std::string& where)
      : replacement_(spec.value("replacement", "\xE2\x96\x81")), split_(spec.value("split", true)),
        delimiter_(nlohmann::json{{"String", replacement_}}, where), space_(nlohmann::json{{"String", " "}}, where) {
    std::string scheme = spec.value("prepend_scheme", "");
    if (scheme.empty()) scheme = spec.value("add_prefix_space", true) ? "always" : "never";
    if (scheme != "always" && scheme != "first" && scheme != "never")
      throw_bad_input(where, "unknown Metaspace prepend_scheme \"" + scheme + "\"");
    prepend_scheme_ = scheme;
  }
  std::vector<std::string> split(std::vector<std::string> words, bool first_section) const override {
    std::vector<std::string> out;
    for (auto& w : words) {
      std::string text = space_.replace_all(w, replacement_);
      const bool prepend = prepend_scheme_ == "always" || (prepend_scheme_ == "first" && first_section);
      if (prepend && text.compare(0, replacement_.size(), replacement_) != 0) text = replacement_ + text;
      if (split_) split_word(text, delimiter_, Behavior::MergedWithNext, false, out);
      else out.push_back(text);
    }
    return out;
  }

 private:
  std::string replacement_;
  bool split_;
  Pattern delimiter_;  // the replacement character: words start at it
  Pattern space_;
  std::string prepend_scheme_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  std::vector<std::string> split(std::vector<std::string> words, bool first_section) const override {
    for (const auto& p : parts_) words = p->split(std::move(words), first_section);
    return words;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
    throw_bad_input(where, "pre_tokenizer must be an object with a \"type\"");
  const std::string type = spec["type"].get<std::string>();
  if (type == "ByteLevel") return std::make_unique<ByteLevel>(spec, where);
  if (type == "Split") return std::make_unique<Split>(spec, where);
  if (type == "Metaspace") return std::make_unique<Metaspace>(spec, where);
  // Digits and WhitespaceSplit are Splits with a fixed regex.
  if (type == "Digits") {
    const char* regex = spec.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+";
    return std::make_unique<Split>(nlohmann::json{{"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}}, where);
  }
  if (type == "WhitespaceSplit")
    return std::make_unique<Split>(nlohmann::json{{"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}}, where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const auto& p : spec.value("pretokenizers", nlohmann::json::array())) {
      auto part = make_pre_tokenizer(p, where);
      if (part) parts.push_back(std::move(part));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw_bad_input(where, "pre_tokenizer type \"" + type + "\" is not supported (ByteLevel, Split, Metaspace, Digits, WhitespaceSplit, Sequence)");
}

}  // namespace imsm
