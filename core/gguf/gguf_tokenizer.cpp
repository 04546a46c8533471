#include "gguf/gguf_tokenizer.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "util/error.h"

namespace imsm {
namespace {

using Json = nlohmann::json;

// llama.cpp's token types (llama-vocab.h): what the file says each token is.
constexpr int kControl = 3, kUserDefined = 4;

const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kPreTokenizers = "gpt-2, default, smollm, llama-bpe, llama3, llama-v3, smaug-bpe, dbrx, qwen2, deepseek-r1-qwen";

Json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

Json split_then_bytes(const char* regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}}, byte_level(false)}}};
}

// Code point boundaries of a UTF-8 string (Python's str indices).
std::vector<size_t> char_starts(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  return out;
}

// transformers' generate_merges(vocab, scores): every split of a token into
// two tokens is a merge of that token's score; merges sorted by score, then
// by the lengths (in characters) of the two pieces, all descending, ties in
// vocabulary order.
Json merges_from_scores(const std::vector<std::string>& tokens, const std::vector<double>& scores) {
  // As Python's dicts: a token listed twice keeps its last id and score, at its first place.
  std::unordered_map<std::string, int64_t> id;
  for (size_t i = 0; i < tokens.size(); ++i) id[tokens[i]] = static_cast<int64_t>(i);
  struct Merge {
    double score;
    int64_t left_chars, right_chars, left, right;
  };
  std::vector<Merge> merges;
  std::unordered_map<std::string, bool> seen;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!seen.emplace(tokens[i], true).second) continue;
    const double score = scores[static_cast<size_t>(id.at(tokens[i]))];
    const std::string& t = tokens[i];
    const std::vector<size_t> starts = char_starts(t);
    std::vector<Merge> local;
    for (size_t c = 1; c < starts.size(); ++c) {
      const auto l = id.find(t.substr(0, starts[c])), r = id.find(t.substr(starts[c]));
      if (l != id.end() && r != id.end())
        local.push_back({score, static_cast<int64_t>(c), static_cast<int64_t>(starts.size() - c), l->second, r->second});
    }
    std::stable_sort(local.begin(), local.end(), [](const Merge& a, const Merge& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  // Python's sorted(reverse=True) is stable: equal keys keep their order.
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_chars != b.left_chars) return a.left_chars > b.left_chars;
    return a.right_chars > b.right_chars;
  });
  Json out = Json::array();
  for (const auto& m : merges) out.push_back({tokens[static_cast<size_t>(m.left)], tokens[static_cast<size_t>(m.right)]});
  return out;
}

Json added_token(int64_t id, const std::string& content, bool special) {
  return {{"id", id},          {"content", content},       {"single_word", false}, {"lstrip", false},
          {"rstrip", false},   {"normalized", !special},   {"special", special}};
}

std::string token_at(const std::vector<std::string>& tokens, std::optional<int64_t> id, const std::string& key,
                     const std::string& path) {
  if (!id) return "";
  if (*id < 0 || *id >= static_cast<int64_t>(tokens.size()))
    throw_bad_input(path, "metadata key " + key + " is " + std::to_string(*id) + ", not an id of its " +
                              std::to_string(tokens.size()) + "-token vocabulary");
  return tokens[static_cast<size_t>(*id)];
}

// A gpt2 (byte-level BPE) vocabulary: its merges as pairs, the split of its
// llama.cpp pre-tokenizer, byte-level decoding.
void add_gpt2_model(Json& tokenizer, const GgufFile& f, const Json& vocab, const std::string& pre) {
  const std::string& path = f.path();
  const auto merges = f.texts("tokenizer.ggml.merges");
  if (!merges) throw_bad_input(path, "has a gpt2 tokenizer without merges (tokenizer.ggml.merges)");
  bool ignore_merges = false;
  tokenizer["pre_tokenizer"] = gguf_pre_tokenizer(pre, path, ignore_merges);
  Json pairs = Json::array();
  for (const auto& m : *merges) {
    const size_t space = m.find(' ');
    if (space == std::string::npos) throw_bad_input(path, "merge \"" + m + "\" (tokenizer.ggml.merges) is not two tokens and a space");
    pairs.push_back({m.substr(0, space), m.substr(space + 1)});
  }
  tokenizer["model"] = {{"type", "BPE"},        {"dropout", nullptr},           {"unk_token", nullptr},
                        {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", false},
                        {"byte_fallback", false}, {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", pairs}};
  tokenizer["decoder"] = byte_level(true);
}

// A llama (SentencePiece) vocabulary: merges from its scores, Metaspace with
// byte fallback, as transformers' GGUF loader converts it.
void add_llama_model(Json& tokenizer, const GgufFile& f, const Json& vocab, const std::vector<std::string>& tokens) {
  const std::string& path = f.path();
  const auto scores = f.numbers("tokenizer.ggml.scores");
  if (!scores || scores->size() != tokens.size())
    throw_bad_input(path, "has a llama (SentencePiece) tokenizer without one score per token (tokenizer.ggml.scores)");
  const auto unk = f.integer("tokenizer.ggml.unknown_token_id");
  const bool prefix_space = f.boolean("tokenizer.ggml.add_space_prefix").value_or(true);
  tokenizer["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"},
                                {"prepend_scheme", prefix_space ? "first" : "never"}, {"split", false}};
  tokenizer["model"] = {{"type", "BPE"},      {"dropout", nullptr},    {"unk_token", token_at(tokens, unk, "tokenizer.ggml.unknown_token_id", path)},
                        {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
                        {"byte_fallback", true}, {"ignore_merges", false}, {"vocab", vocab},
                        {"merges", merges_from_scores(tokens, *scores)}};
  Json steps = {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}}};
  if (prefix_space) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  tokenizer["decoder"] = {{"type", "Sequence"}, {"decoders", steps}};
}

// Control tokens are special added tokens; user-defined ones plain added tokens.
Json added_tokens_of(const std::vector<double>& types, const std::vector<std::string>& tokens) {
  Json added = Json::array();
  for (size_t i = 0; i < types.size(); ++i) {
    const double type = types[i];  // as read: any integer the file holds, never cast out of range (fuzz_gguf's finding 2)
    if (type == kControl || type == kUserDefined) added.push_back(added_token(static_cast<int64_t>(i), tokens[i], type == kControl));
  }
  return added;
}

// BOS before each sequence, as the tokenizer.json of a model that adds it.
Json bos_post_processor(const std::string& bos, int64_t bos_id) {
  return {{"type", "TemplateProcessing"},
          {"single", {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair", {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                    {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {bos_id}}, {"tokens", {bos}}}}}}};
}

}  // namespace

Json gguf_pre_tokenizer(const std::string& pre, const std::string& path, bool& ignore_merges) {
  ignore_merges = false;
  if (pre.empty() || pre == "default" || pre == "gpt-2") return byte_level(true);
  if (pre == "smollm")  // each digit alone, then GPT-2's split
    return {{"type", "Sequence"},
            {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}};
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "smaug-bpe" || pre == "dbrx") {
    // llama.cpp: a whole word in the vocabulary is one token (Llama 3's tokenizer.json says so too); not for smaug-bpe and dbrx
    ignore_merges = pre != "smaug-bpe" && pre != "dbrx";
    return split_then_bytes(kLlama3Split);
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen") return split_then_bytes(kQwen2Split);
  throw_bad_input(path, "uses the pre-tokenizer \"" + pre + "\" (tokenizer.ggml.pre), which the import does not know; supported: " +
                            kPreTokenizers);
}

namespace {

// What of a pre-tokenizer changes the ids: each step's type, split regex,
// behaviour and digit and regex switches (not trim_offsets, which moves
// offsets only).
Json signature(const Json& pre) {
  if (!pre.is_object()) return Json();
  const Json steps = pre.value("type", "") == "Sequence" ? pre.value("pretokenizers", Json::array()) : Json::array({pre});
  Json out = Json::array();
  for (const auto& s : steps) {
    if (!s.is_object()) return Json();
    Json step = {{"type", s.value("type", "")}};
    for (const char* key : {"pattern", "behavior", "invert", "individual_digits", "use_regex", "add_prefix_space"})
      if (s.contains(key)) step[key] = s[key];
    out.push_back(step);
  }
  return out;
}

}  // namespace

std::string gguf_pre_name(const Json& pre_tokenizer, bool ignore_merges) {
  const Json mine = signature(pre_tokenizer);
  for (const char* name : {"smollm", "llama-bpe", "qwen2", "gpt-2"}) {
    bool merges_ignored = false;
    if (signature(gguf_pre_tokenizer(name, "", merges_ignored)) != mine) continue;
    // llama.cpp's llama-bpe ignores merges for whole words in the vocabulary; smaug-bpe splits alike without that.
    return std::string(name) == "llama-bpe" && !ignore_merges ? "smaug-bpe" : name;
  }
  return "";
}

GgufTokenizer read_gguf_tokenizer(const GgufFile& f, int64_t context_length) {
  GgufTokenizer out;
  const std::string& path = f.path();
  const auto model = f.text("tokenizer.ggml.model");
  const auto tokens = f.texts("tokenizer.ggml.tokens");
  if (!model || !tokens || tokens->empty())
    throw_bad_input(path, "has no tokenizer (tokenizer.ggml.model and tokenizer.ggml.tokens): the import needs the model's vocabulary");
  out.model = *model;
  out.pre = f.text("tokenizer.ggml.pre").value_or("");
  std::vector<double> types = f.numbers("tokenizer.ggml.token_type").value_or(std::vector<double>{});
  if (!types.empty() && types.size() != tokens->size())
    throw_bad_input(path, "metadata key tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                              std::to_string(tokens->size()) + " tokens");

  Json vocab = Json::object();
  for (size_t i = 0; i < tokens->size(); ++i) vocab[(*tokens)[i]] = static_cast<int64_t>(i);  // a repeated token keeps its last id, as a dict would
  Json tokenizer = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"normalizer", nullptr}};
  if (out.model == "gpt2")
    add_gpt2_model(tokenizer, f, vocab, out.pre);
  else if (out.model == "llama")
    add_llama_model(tokenizer, f, vocab, *tokens);
  else
    throw_bad_input(path, "has a tokenizer of model \"" + out.model + "\" (tokenizer.ggml.model); supported: gpt2, llama");
  tokenizer["added_tokens"] = added_tokens_of(types, *tokens);

  const std::string bos = token_at(*tokens, f.integer("tokenizer.ggml.bos_token_id"), "tokenizer.ggml.bos_token_id", path);
  const std::string eos = token_at(*tokens, f.integer("tokenizer.ggml.eos_token_id"), "tokenizer.ggml.eos_token_id", path);
  const std::string pad = token_at(*tokens, f.integer("tokenizer.ggml.padding_token_id"), "tokenizer.ggml.padding_token_id", path);
  const bool add_bos = f.boolean("tokenizer.ggml.add_bos_token").value_or(out.model == "llama");
  const bool add_eos = f.boolean("tokenizer.ggml.add_eos_token").value_or(false);
  tokenizer["post_processor"] = add_bos && !bos.empty() ? bos_post_processor(bos, *f.integer("tokenizer.ggml.bos_token_id")) : Json(nullptr);
  out.tokenizer = std::move(tokenizer);

  Json config = {{"tokenizer_class", "PreTrainedTokenizerFast"}, {"add_bos_token", add_bos},     {"add_eos_token", add_eos},
                 {"clean_up_tokenization_spaces", false},      {"model_max_length", context_length}};
  if (!bos.empty()) config["bos_token"] = bos;
  if (!eos.empty()) config["eos_token"] = eos;
  if (!pad.empty()) config["pad_token"] = pad;
  const auto unk = f.integer("tokenizer.ggml.unknown_token_id");
  if (out.model == "llama" && unk) config["unk_token"] = token_at(*tokens, unk, "tokenizer.ggml.unknown_token_id", path);
  if (const auto tpl = f.text("tokenizer.chat_template")) {
    config["chat_template"] = *tpl;
    out.has_chat_template = true;
  }
  out.config = std::move(config);
  return out;
}

}  // namespace imsm
