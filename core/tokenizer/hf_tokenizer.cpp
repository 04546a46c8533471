#include "tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "io/json_file.h"
#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

namespace {

// The ids a post-processor puts around a single sequence.
struct Template {
  std::vector<int32_t> prefix, suffix;
};

void read_post_processor(const nlohmann::json& spec, const std::string& where, Template& t) {
  if (spec.is_null()) return;
  const std::string type = spec.value("type", "");
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    for (const auto& p : spec.value("processors", nlohmann::json::array())) read_post_processor(p, where, t);
    return;
  }
  if (type == "TemplateProcessing") {
    const auto& specials = spec.value("special_tokens", nlohmann::json::object());
    bool after = false;
    for (const auto& item : spec.value("single", nlohmann::json::array())) {
      if (item.contains("Sequence")) {
        after = true;
        continue;
      }
      if (!item.contains("SpecialToken")) throw_bad_input(where, "TemplateProcessing item is neither Sequence nor SpecialToken");
      const std::string name = item["SpecialToken"].value("id", "");
      if (!specials.contains(name)) throw_bad_input(where, "TemplateProcessing uses special token \"" + name + "\" without ids");
      for (const auto& id : specials[name].value("ids", nlohmann::json::array()))
        (after ? t.suffix : t.prefix).push_back(id.get<int32_t>());
    }
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const auto cls = spec.value("cls", nlohmann::json::array()), sep = spec.value("sep", nlohmann::json::array());
    if (cls.size() != 2 || sep.size() != 2) throw_bad_input(where, type + " needs cls and sep as [token, id]");
    t.prefix.push_back(cls[1].get<int32_t>());
    t.suffix.push_back(sep[1].get<int32_t>());
    return;
  }
  throw_bad_input(where, "post_processor type \"" + type + "\" is not supported (TemplateProcessing, ByteLevel, Bert/RobertaProcessing, Sequence)");
}

class HfTokenizer : public Tokenizer {
 public:
  HfTokenizer(const nlohmann::json& j, const std::string& where, const TokenizerConfig& config)
      : model_(check_model(j, where), where),
        normalizer_(make_normalizer(j.value("normalizer", nlohmann::json()), where)),
        pre_tokenizer_(make_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), where)),
        decoder_(make_decoder(j.value("decoder", nlohmann::json()), where)),
        added_(read_added(j, where), [this](const std::string& s) { return normalizer_ ? normalizer_->normalize(s) : s; }) {
    // tokenizer_config.json's clean_up_tokenization_spaces is not applied:
    // transformers 5 ignores it for BPE tokenizers (it strips the spaces
    // before punctuation that BPE keeps), and every model here is BPE.
    vocab_size_ = model_.size();
    for (const auto& t : added_.tokens()) {
      vocab_size_ = std::max<int64_t>(vocab_size_, t.id + 1);
      added_contents_.insert(t.content);
      added_by_id_.emplace(t.id, t.content);
      added_by_content_.emplace(t.content, t.id);
      if (t.special) special_ids_.insert(t.id);
    }
    for (const auto& s : config.additional_special_tokens) {
      const int32_t id = token_to_id(s);
      if (id >= 0) special_ids_.insert(id);
    }
    read_post_processor(j.value("post_processor", nlohmann::json()), where + " (post_processor)", template_);
    if (!config.bos_token.empty()) bos_id_ = token_to_id(config.bos_token);
    if (!config.eos_token.empty() && token_to_id(config.eos_token) >= 0) eos_ids_.push_back(token_to_id(config.eos_token));
    // tokenizer_config.json's add_bos_token / add_eos_token override the template, as transformers does.
    adjust(template_.prefix, config.add_bos_token, bos_id_, true);
    adjust(template_.suffix, config.add_eos_token, eos_ids_.empty() ? -1 : eos_ids_[0], false);
    kind_ = "tokenizer.json: BPE";
    const std::string pipeline = j.value("pre_tokenizer", nlohmann::json()).dump() + j.value("decoder", nlohmann::json()).dump();
    if (model_.byte_fallback()) kind_ += " (SentencePiece-style, byte fallback)";
    else if (pipeline.find("\"ByteLevel\"") != std::string::npos) kind_ += " (ByteLevel)";
  }

  std::vector<int32_t> encode(std::string_view raw, bool add_special_tokens) const override {
    const std::string text = utf8::is_valid(raw) ? std::string(raw) : utf8::make_valid(raw);
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = template_.prefix;
    const auto sections = added_.split_raw(text);
    for (size_t i = 0; i < sections.size(); ++i) {
      if (sections[i].id >= 0) {
        ids.push_back(sections[i].id);
        continue;
      }
      const std::string normalized = normalizer_ ? normalizer_->normalize(sections[i].text) : sections[i].text;
      for (const auto& sub : added_.split_normalized(normalized)) {
        if (sub.id >= 0) {
          ids.push_back(sub.id);
          continue;
        }
        std::vector<std::string> words{sub.text};
        if (pre_tokenizer_) words = pre_tokenizer_->split(std::move(words), i == 0);
        for (const auto& w : words) model_.encode_word(w, ids);
      }
    }
    if (add_special_tokens) ids.insert(ids.end(), template_.suffix.begin(), template_.suffix.end());
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const int32_t id : ids) {
      const std::string t = id_to_token(id);
      if (t.empty() && (id < 0 || id >= vocab_size_))
        throw_bad_input("decode", "token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(vocab_size_ - 1) + ")");
      if (skip_special_tokens && special_ids_.count(id)) continue;
      tokens.push_back(t);
    }
    std::string text;
    if (decoder_) {
      for (const auto& piece : decoder_->decode_chain(std::move(tokens), added_contents_)) text += piece;
    } else {
      for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
    }
    return text;
  }

  int64_t vocab_size() const override { return vocab_size_; }
  std::string id_to_token(int32_t id) const override {
    const auto it = added_by_id_.find(id);
    return it != added_by_id_.end() ? it->second : model_.id_to_token(id);
  }
  int32_t token_to_id(std::string_view token) const override {
    const auto it = added_by_content_.find(std::string(token));
    return it != added_by_content_.end() ? it->second : model_.token_to_id(token);
  }
  bool is_special(int32_t id) const override { return special_ids_.count(id) > 0; }
  std::string kind() const override { return kind_; }

 private:
  static const nlohmann::json& check_model(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) throw_bad_input(where, "no \"model\" object: not a tokenizer.json");
    const std::string type = j["model"].value("type", "BPE");
    if (type != "BPE") throw_bad_input(where, "tokenizer model type \"" + type + "\" is not supported (only BPE)");
    return j["model"];
  }
  static std::vector<AddedToken> read_added(const nlohmann::json& j, const std::string& where) {
    std::vector<AddedToken> out;
    for (const auto& a : j.value("added_tokens", nlohmann::json::array())) {
      if (!a.is_object() || !a.contains("content") || !a.contains("id")) throw_bad_input(where, "added_tokens entry needs \"id\" and \"content\"");
      AddedToken t;
      t.content = a["content"].get<std::string>();
      t.id = a["id"].get<int32_t>();
      t.special = a.value("special", false);
      t.single_word = a.value("single_word", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.normalized = a.value("normalized", !t.special);
      out.push_back(t);
    }
    return out;
  }
  static void adjust(std::vector<int32_t>& ids, std::optional<bool> want, int32_t id, bool front) {
    if (!want.has_value() || id < 0) return;
    const bool has = !ids.empty() && (front ? ids.front() : ids.back()) == id;
    if (*want && !has) ids.insert(front ? ids.begin() : ids.end(), id);
    if (!*want && has) ids.erase(front ? ids.begin() : ids.end() - 1);
  }

  BpeModel model_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocab added_;
  std::unordered_set<std::string> added_contents_;
  std::unordered_map<int32_t, std::string> added_by_id_;
  std::unordered_map<std::string, int32_t> added_by_content_;
  std::unordered_set<int32_t> special_ids_;
  Template template_;
  int64_t vocab_size_ = 0;
  std::string kind_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path, const TokenizerConfig& config) {
  const nlohmann::json j = json::read_file(path);
  try {
    return std::make_unique<HfTokenizer>(j, path, config);
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input(path, std::string("unexpected value in tokenizer.json (") + e.what() + ")");
  }
}

}  // namespace imsm
