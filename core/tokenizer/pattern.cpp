#include "tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

struct Pattern::Regex {
  pcre2_code* code = nullptr;
  ~Regex() {
    if (code) pcre2_code_free(code);
  }
};

Pattern::Pattern(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_object() && spec.contains("String") && spec["String"].is_string()) {
    literal_ = spec["String"].get<std::string>();
    if (literal_.empty()) throw_bad_input(where, "empty String pattern");
    return;
  }
  if (!(spec.is_object() && spec.contains("Regex") && spec["Regex"].is_string()))
    throw_bad_input(where, "pattern must be {\"String\": ...} or {\"Regex\": ...}");
  const std::string source = spec["Regex"].get<std::string>();
  int err = 0;
  PCRE2_SIZE offset = 0;
  regex_ = std::make_unique<Regex>();
  // UCP: \s, \w, \d and \p{...} with Unicode meaning, as Oniguruma in the reference.
  regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.c_str()), source.size(),
                               PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &offset, nullptr);
  if (regex_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(err, message, sizeof(message));
    throw_bad_input(where, "bad regex at offset " + std::to_string(offset) + ": " + reinterpret_cast<char*>(message));
  }
  pcre2_jit_compile(regex_->code, PCRE2_JIT_COMPLETE);  // best effort: falls back to the interpreter
}

Pattern::~Pattern() = default;
Pattern::Pattern(Pattern&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> Pattern::find_all(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (!regex_) {
    for (size_t at = text.find(literal_); at != std::string_view::npos; at = text.find(literal_, at + literal_.size()))
      out.emplace_back(at, at + literal_.size());
    return out;
  }
  if (!utf8::is_valid(text)) return out;  // callers pass valid text (HfTokenizer makes it so); PCRE2 would stop at the first bad byte
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    // Checked once above, not at every match (PCRE2 checks the whole rest of the subject each call).
    const int rc = pcre2_match(regex_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    if (e == b) {
      // Empty match: step one character forward.
      if (b >= text.size()) break;
      start = b + static_cast<size_t>(utf8::sequence_length(static_cast<unsigned char>(text[b])));
      continue;
    }
    out.emplace_back(b, e);
    start = e;
  }
  pcre2_match_data_free(md);
  return out;
}

std::string Pattern::replace_all(std::string_view text, std::string_view with) const {
  std::string out;
  size_t cursor = 0;
  for (const auto& [b, e] : find_all(text)) {
    out.append(text.substr(cursor, b - cursor));
    out.append(with);
    cursor = e;
  }
  out.append(text.substr(cursor));
  return out;
}

}  // namespace imsm
