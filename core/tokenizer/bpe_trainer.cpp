#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "util/error.h"

namespace imsm {

namespace {

const nlohmann::json kByteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
// Qwen2's tokenizer.json, verbatim: single digits, words with one leading
// non-letter, punctuation runs, newlines, whitespace.
const nlohmann::json kQwen2 = {
    {"type", "Sequence"},
    {"pretokenizers",
     {{{"type", "Split"},
       {"pattern", {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
       {"behavior", "Isolated"},
       {"invert", false}},
      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};

const nlohmann::json& pre_tokenizer_spec(const BpeTrainOptions& o) { return o.split_digits ? kQwen2 : kByteLevel; }

using Pair = std::pair<int32_t, int32_t>;
struct PairHash {
  size_t operator()(const Pair& p) const { return std::hash<uint64_t>()((uint64_t(uint32_t(p.first)) << 32) | uint32_t(p.second)); }
};

// One UTF-8 character of the byte-level alphabet per byte.
std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// The corpus as words (pre-tokens) of symbol ids with their counts, the
// pair counts and, per pair, the words that hold it.
struct WordPairs {
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> freq;
  std::unordered_map<Pair, int64_t, PairHash> pair_count;
  std::unordered_map<Pair, std::set<size_t>, PairHash> where;

  void add_word(size_t w, int sign) {
    const auto& s = words[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const Pair p{s[i], s[i + 1]};
      pair_count[p] += sign * freq[w];
      if (sign > 0) where[p].insert(w);
    }
  }
};

WordPairs count_words(const std::vector<std::string>& texts, const BpeTrainOptions& o,
                      const std::unordered_map<std::string, int32_t>& id_of) {
  const auto pre = make_pre_tokenizer(pre_tokenizer_spec(o), "bpe trainer");
  std::map<std::string, int64_t> counts;
  for (const auto& t : texts)
    for (const auto& w : pre->split({t}, true)) ++counts[w];
  WordPairs out;
  for (const auto& [w, n] : counts) {
    std::vector<int32_t> symbols;
    for (const auto& ch : utf8_chars(w)) symbols.push_back(id_of.at(ch));
    out.words.push_back(std::move(symbols));
    out.freq.push_back(n);
  }
  for (size_t w = 0; w < out.words.size(); ++w) out.add_word(w, +1);
  return out;
}

// The most frequent pair of at least min_frequency; ties: the pair whose
// token strings sort first. Null when none is left.
const Pair* best_pair(const WordPairs& c, const std::vector<std::string>& vocab, int64_t min_frequency) {
  const Pair* best = nullptr;
  int64_t best_count = 0;
  for (const auto& [p, n] : c.pair_count) {
    if (n < min_frequency || n < best_count) continue;
    if (n > best_count || std::tie(vocab[p.first], vocab[p.second]) < std::tie(vocab[best->first], vocab[best->second])) {
      best = &p;
      best_count = n;
    }
  }
  return best;
}

// Every occurrence of the pair in the words that hold it becomes new_id; the counts follow.
void apply_merge(WordPairs& c, const Pair merge, int32_t new_id) {
  const std::set<size_t> affected = std::move(c.where[merge]);
  c.where.erase(merge);
  for (size_t w : affected) {
    c.add_word(w, -1);
    auto& s = c.words[w];
    std::vector<int32_t> merged;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i + 1 < s.size() && s[i] == merge.first && s[i + 1] == merge.second) {
        merged.push_back(new_id);
        ++i;
      } else {
        merged.push_back(s[i]);
      }
    }
    s = std::move(merged);
    c.add_word(w, +1);
  }
  for (auto it = c.pair_count.begin(); it != c.pair_count.end();)  // drop pairs that no longer occur
    it = it->second <= 0 ? c.pair_count.erase(it) : std::next(it);
}

}  // namespace

TrainedBpe train_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& o, const std::function<void(int64_t, int64_t)>& on_merge) {
  const int64_t specials = static_cast<int64_t>(o.special_tokens.size());
  if (o.vocab_size < 256 + specials) throw_bad_input("vocab_size", "must hold the 256 byte symbols and the special tokens");
  TrainedBpe model;
  std::unordered_map<std::string, int32_t> id_of;
  for (int b = 0; b < 256; ++b) {  // the byte alphabet, in byte order
    id_of[byte_level::char_of_byte(static_cast<unsigned char>(b))] = static_cast<int32_t>(model.vocab.size());
    model.vocab.push_back(byte_level::char_of_byte(static_cast<unsigned char>(b)));
  }
  WordPairs corpus = count_words(texts, o, id_of);
  const int64_t target_merges = o.vocab_size - 256 - specials;
  for (int64_t m = 0; m < target_merges; ++m) {
    const Pair* best = best_pair(corpus, model.vocab, o.min_frequency);
    if (!best) break;  // nothing frequent enough is left
    const Pair merge = *best;
    const int32_t new_id = static_cast<int32_t>(model.vocab.size());
    model.vocab.push_back(model.vocab[merge.first] + model.vocab[merge.second]);
    model.merges.emplace_back(model.vocab[merge.first], model.vocab[merge.second]);
    apply_merge(corpus, merge, new_id);
    if (on_merge) on_merge(m + 1, target_merges);
  }
  for (const auto& s : o.special_tokens) model.vocab.push_back(s);
  return model;
}

nlohmann::ordered_json tokenizer_json(const TrainedBpe& model, const BpeTrainOptions& o) {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  const size_t regular = model.vocab.size() - o.special_tokens.size();
  for (size_t i = 0; i < regular; ++i) vocab[model.vocab[i]] = i;
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (const auto& [a, b] : model.merges) merges.push_back(a + " " + b);
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (size_t i = 0; i < o.special_tokens.size(); ++i)
    added.push_back({{"id", regular + i}, {"content", o.special_tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  nlohmann::ordered_json post = nullptr;
  if (!o.bos_token.empty()) {
    const auto it = std::find(o.special_tokens.begin(), o.special_tokens.end(), o.bos_token);
    if (it == o.special_tokens.end()) throw_bad_input("bos_token", "\"" + o.bos_token + "\" is not one of the special tokens");
    const size_t bos_id = regular + static_cast<size_t>(it - o.special_tokens.begin());
    post = {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", o.bos_token}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair", {{{"SpecialToken", {{"id", o.bos_token}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                      {{"SpecialToken", {{"id", o.bos_token}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
            {"special_tokens", {{o.bos_token, {{"id", o.bos_token}, {"ids", {bos_id}}, {"tokens", {o.bos_token}}}}}}};
  }
  return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added}, {"normalizer", nullptr},
          {"pre_tokenizer", pre_tokenizer_spec(o)}, {"post_processor", post},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                     {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                     {"vocab", vocab}, {"merges", merges}}}};
}

nlohmann::ordered_json tokenizer_config_json(const BpeTrainOptions& o) {
  nlohmann::ordered_json j = {{"tokenizer_class", "PreTrainedTokenizerFast"}, {"add_bos_token", !o.bos_token.empty()},
                              {"add_eos_token", false}, {"clean_up_tokenization_spaces", false}};
  if (!o.bos_token.empty()) j["bos_token"] = o.bos_token;
  if (!o.eos_token.empty()) j["eos_token"] = o.eos_token;
  j["model_max_length"] = 2048;
  return j;
}

}  // namespace imsm
