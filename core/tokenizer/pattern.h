// A tokenizer.json pattern: {"Regex": "..."} (PCRE2, Unicode) or {"String": "..."}.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

class Pattern {
 public:
  // Throws BadInput naming `where` for an unknown pattern kind or a bad regex.
  Pattern(const nlohmann::json& spec, const std::string& where);
  ~Pattern();
  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) = delete;
  Pattern(const Pattern&) = delete;

  // Non-overlapping matches, left to right, as byte ranges [begin, end).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  std::string replace_all(std::string_view text, std::string_view with) const;

 private:
  std::string literal_;
  struct Regex;
  std::unique_ptr<Regex> regex_;
};

}  // namespace imsm
