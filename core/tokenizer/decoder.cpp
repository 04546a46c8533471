#include "tokenizer/decoder.h"

#include <cctype>

#include "tokenizer/byte_level.h"
#include "tokenizer/pattern.h"
#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

namespace {

using Added = std::unordered_set<std::string>;

class ByteLevel : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added& added) const override {
    std::vector<std::string> out;
    std::string run;  // consecutive byte-level tokens decode together (multi-byte characters)
    auto flush = [&] {
      if (!run.empty()) out.push_back(utf8::make_valid(byte_level::decode(run)));
      run.clear();
    };
    for (auto& t : tokens) {
      if (added.count(t)) {
        flush();
        out.push_back(std::move(t));
      } else {
        run += t;
      }
    }
    flush();
    return out;
  }
};

class Metaspace : public Decoder {
 public:
  Metaspace(const nlohmann::json& spec, const std::string& where)
      : replacement_(nlohmann::json{{"String", spec.value("replacement", "\xE2\x96\x81")}}, where) {
    std::string scheme = spec.value("prepend_scheme", "");
    if (scheme.empty()) scheme = spec.value("add_prefix_space", true) ? "always" : "never";
    strip_first_ = scheme != "never";
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added&) const override {
    // As Hugging Face's Rust decoder: every replacement character of the first
    // token is dropped (not only a leading one) unless the scheme is "never".
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = replacement_.replace_all(tokens[i], i == 0 && strip_first_ ? "" : " ");
    return tokens;
  }

 private:
  Pattern replacement_;
  bool strip_first_;
};

class Replace : public Decoder {
 public:
  Replace(const nlohmann::json& spec, const std::string& where)
      : pattern_(spec.value("pattern", nlohmann::json()), where), content_(spec.value("content", "")) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added&) const override {
    for (auto& t : tokens) t = pattern_.replace_all(t, content_);
    return tokens;
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class ByteFallback : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added&) const override {
    std::vector<std::string> out;
    std::string bytes;
    auto flush = [&] {
      if (bytes.empty()) return;
      // Valid UTF-8 becomes its text; otherwise one U+FFFD per byte, as the reference.
      if (utf8::is_valid(bytes)) out.push_back(bytes);
      else
        for (size_t i = 0; i < bytes.size(); ++i) out.push_back("\xEF\xBF\xBD");
      bytes.clear();
    };
    for (auto& t : tokens) {
      unsigned value = 0;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
          std::isxdigit(static_cast<unsigned char>(t[4]))) {
        value = static_cast<unsigned>(std::stoul(t.substr(3, 2), nullptr, 16));
        bytes += static_cast<char>(value);
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }
};

class Fuse : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added&) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    return {all};
  }
};

class Strip : public Decoder {
 public:
  explicit Strip(const nlohmann::json& spec)
      : content_(spec.value("content", " ")), start_(spec.value("start", 0)), stop_(spec.value("stop", 0)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added&) const override {
    for (auto& t : tokens) {
      const auto chars = utf8::characters(t);
      size_t b = 0, e = chars.size();
      for (int i = 0; i < start_ && b < e && chars[b] == content_; ++i) ++b;
      for (int i = 0; i < stop_ && e > b && chars[e - 1] == content_; ++i) --e;
      std::string s;
      for (size_t i = b; i < e; ++i) s.append(chars[i]);
      t = s;
    }
    return tokens;
  }

 private:
  std::string content_;
  int start_, stop_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens, const Added& added) const override {
    for (const auto& p : parts_) tokens = p->decode_chain(std::move(tokens), added);
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return nullptr;
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
    throw_bad_input(where, "decoder must be an object with a \"type\"");
  const std::string type = spec["type"].get<std::string>();
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Metaspace") return std::make_unique<Metaspace>(spec, where);
  if (type == "Replace") return std::make_unique<Replace>(spec, where + " (Replace decoder)");
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") return std::make_unique<Strip>(spec);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> parts;
    for (const auto& p : spec.value("decoders", nlohmann::json::array())) {
      auto d = make_decoder(p, where);
      if (d) parts.push_back(std::move(d));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  throw_bad_input(where, "decoder type \"" + type + "\" is not supported (ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
}

}  // namespace imsm
