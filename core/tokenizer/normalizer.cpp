#include "tokenizer/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <vector>

#include "tokenizer/pattern.h"
#include "util/error.h"

namespace imsm {

namespace {

class UnicodeForm : public Normalizer {
 public:
  UnicodeForm(const std::string& form, const std::string& where) {
    UErrorCode status = U_ZERO_ERROR;
    if (form == "NFC") normalizer_ = icu::Normalizer2::getNFCInstance(status);
    else if (form == "NFD") normalizer_ = icu::Normalizer2::getNFDInstance(status);
    else if (form == "NFKC") normalizer_ = icu::Normalizer2::getNFKCInstance(status);
    else normalizer_ = icu::Normalizer2::getNFKDInstance(status);
    if (U_FAILURE(status)) throw_bad_input(where, "ICU has no " + form + " normalizer");
  }
  std::string normalize(std::string text) const override {
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString in = icu::UnicodeString::fromUTF8(text);
    if (normalizer_->isNormalized(in, status) && U_SUCCESS(status)) return text;
    status = U_ZERO_ERROR;
    const icu::UnicodeString out = normalizer_->normalize(in, status);
    if (U_FAILURE(status)) return text;
    std::string result;
    out.toUTF8String(result);
    return result;
  }

 private:
  const icu::Normalizer2* normalizer_ = nullptr;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string text) const override { return text.empty() ? text : prefix_ + text; }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(const nlohmann::json& spec, const std::string& where)
      : pattern_(spec.value("pattern", nlohmann::json()), where), content_(spec.value("content", "")) {}
  std::string normalize(std::string text) const override { return pattern_.replace_all(text, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class Lowercase : public Normalizer {
 public:
  std::string normalize(std::string text) const override {
    std::string out;
    icu::UnicodeString::fromUTF8(text).toLower().toUTF8String(out);
    return out;
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string text) const override {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    size_t b = 0, e = text.size();
    if (left_) while (b < e && is_space(text[b])) ++b;
    if (right_) while (e > b && is_space(text[e - 1])) --e;
    return text.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  std::string normalize(std::string text) const override {
    for (const auto& p : parts_) text = p->normalize(std::move(text));
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
    throw_bad_input(where, "normalizer must be an object with a \"type\"");
  const std::string type = spec["type"].get<std::string>();
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return std::make_unique<UnicodeForm>(type, where);
  if (type == "Prepend") return std::make_unique<Prepend>(spec.value("prepend", ""));
  if (type == "Replace") return std::make_unique<Replace>(spec, where + " (Replace normalizer)");
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip") return std::make_unique<Strip>(spec.value("strip_left", true), spec.value("strip_right", true));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (const auto& p : spec.value("normalizers", nlohmann::json::array())) {
      auto n = make_normalizer(p, where);
      if (n) parts.push_back(std::move(n));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw_bad_input(where, "normalizer type \"" + type + "\" is not supported (NFC, NFD, NFKC, NFKD, Prepend, Replace, Lowercase, Strip, Sequence)");
}

}  // namespace imsm
