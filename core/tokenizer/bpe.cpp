#include "tokenizer/bpe.h"

#include <cstdio>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "util/error.h"
#include "util/utf8.h"

namespace imsm {

// Word -> ids of words seen before. A thread that finds the lock taken
// computes the word itself instead of waiting (the reference's try-lock rule).
struct BpeModel::WordCache {
  static constexpr size_t kCapacity = 10000, kMaxWordBytes = 256;
  mutable std::shared_mutex lock;
  std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> words;
};

BpeModel::~BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;

BpeModel::BpeModel(const nlohmann::json& model, const std::string& where) : cache_(std::make_unique<WordCache>()) {
  const auto vocab = model.value("vocab", nlohmann::json());
  if (!vocab.is_object()) throw_bad_input(where, "model.vocab must be an object of token -> id");
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 30))
      throw_bad_input(where, "model.vocab[\"" + token + "\"] is not a valid id");
    const auto i = static_cast<int32_t>(id.get<int64_t>());
    token_to_id_[token] = i;
    if (static_cast<size_t>(i) >= id_to_token_.size()) id_to_token_.resize(i + 1);
    id_to_token_[i] = token;
  }
  auto opt_string = [&](const char* key) {
    return model.contains(key) && model[key].is_string() ? model[key].get<std::string>() : std::string();
  };
  const std::string unk = opt_string("unk_token");
  if (!unk.empty()) unk_id_ = token_to_id(unk);
  byte_fallback_ = model.value("byte_fallback", false);
  fuse_unk_ = model.value("fuse_unk", false);
  ignore_merges_ = model.value("ignore_merges", false);
  continuing_subword_prefix_ = opt_string("continuing_subword_prefix");
  end_of_word_suffix_ = opt_string("end_of_word_suffix");
  if (byte_fallback_) {
    byte_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      byte_ids_[b] = token_to_id(name);
    }
  }

  const auto merges = model.value("merges", nlohmann::json::array());
  if (!merges.is_array()) throw_bad_input(where, "model.merges must be an array");
  int32_t rank = 0;
  for (const auto& m : merges) {
    std::string a, b;
    if (m.is_string()) {  // "a b"
      const std::string s = m.get<std::string>();
      const auto space = s.find(' ', 1);
      if (space == std::string::npos) throw_bad_input(where, "merge \"" + s + "\" is not two tokens separated by a space");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["a", "b"]
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      throw_bad_input(where, "merge #" + std::to_string(rank) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    const int32_t ia = token_to_id(a), ib = token_to_id(b);
    const std::string joined = a + (b.compare(0, continuing_subword_prefix_.size(), continuing_subword_prefix_) == 0
                                        ? b.substr(continuing_subword_prefix_.size())
                                        : b);
    const int32_t inew = token_to_id(joined);
    if (ia < 0 || ib < 0 || inew < 0)
      throw_bad_input(where, "merge \"" + a + " " + b + "\" uses a token that is not in the vocabulary");
    merges_.insert(pair_key(ia, ib), Merge{rank, inew});  // first (best) rank wins on duplicates
    ++rank;
  }
}

void BpeModel::MergeTable::insert(uint64_t key, Merge merge) {
  if (2 * (used_ + 1) > keys_.size()) grow();
  size_t i = slot(key);
  const size_t mask = keys_.size() - 1;
  while (keys_[i] != kEmpty) {
    if (keys_[i] == key) return;
    i = (i + 1) & mask;
  }
  keys_[i] = key;
  values_[i] = merge;
  ++used_;
}

const BpeModel::Merge* BpeModel::MergeTable::find(uint64_t key) const {
  if (keys_.empty()) return nullptr;
  const size_t mask = keys_.size() - 1;
  for (size_t i = slot(key);; i = (i + 1) & mask) {
    if (keys_[i] == key) return &values_[i];
    if (keys_[i] == kEmpty) return nullptr;
  }
}

void BpeModel::MergeTable::grow() {
  std::vector<uint64_t> keys = std::move(keys_);
  std::vector<Merge> values = std::move(values_);
  const size_t size = keys.empty() ? 1024 : 2 * keys.size();
  keys_.assign(size, kEmpty);
  values_.assign(size, Merge{});
  shift_ = 64 - __builtin_ctzll(size);
  used_ = 0;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] != kEmpty) insert(keys[i], values[i]);
}

int32_t BpeModel::token_to_id(std::string_view token) const {
  const auto it = token_to_id_.find(token);
  return it == token_to_id_.end() ? -1 : it->second;
}

const std::string& BpeModel::id_to_token(int32_t id) const {
  static const std::string empty;
  return id >= 0 && static_cast<size_t>(id) < id_to_token_.size() ? id_to_token_[id] : empty;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= WordCache::kMaxWordBytes;
  if (cacheable) {
    std::shared_lock<std::shared_mutex> read(cache_->lock, std::try_to_lock);
    if (read.owns_lock()) {
      const auto it = cache_->words.find(word);
      if (it != cache_->words.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
  }
  const size_t begin = out.size();
  merge_word(word, out);
  if (!cacheable) return;
  std::unique_lock<std::shared_mutex> write(cache_->lock, std::try_to_lock);
  if (write.owns_lock() && cache_->words.size() < WordCache::kCapacity)
    cache_->words.emplace(std::string(word), std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end()));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    const int32_t whole = end_of_word_suffix_.empty() ? token_to_id(word) : token_to_id(std::string(word) + end_of_word_suffix_);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  thread_local std::vector<int32_t> ids;  // scratch, reused: no allocation per word once warm
  ids.clear();
  character_ids(word, ids);
  apply_merges(ids, out);
}

// One symbol per character; a character outside the vocabulary becomes its
// <0xXX> byte tokens (byte_fallback) or unk (fused when fuse_unk).
void BpeModel::character_ids(std::string_view word, std::vector<int32_t>& ids) const {
  const auto chars = utf8::characters(word);
  for (size_t i = 0; i < chars.size(); ++i) {
    const bool affixed = (i > 0 && !continuing_subword_prefix_.empty()) || (i + 1 == chars.size() && !end_of_word_suffix_.empty());
    int32_t id = -1;
    if (affixed) {
      std::string text(chars[i]);
      if (i > 0) text = continuing_subword_prefix_ + text;
      if (i + 1 == chars.size()) text += end_of_word_suffix_;
      id = token_to_id(text);
    } else {
      id = token_to_id(chars[i]);
    }
    if (id >= 0) {
      ids.push_back(id);
      continue;
    }
    bool bytes_ok = byte_fallback_;
    if (bytes_ok)
      for (const char c : chars[i]) bytes_ok = bytes_ok && byte_ids_[static_cast<unsigned char>(c)] >= 0;
    if (bytes_ok) {
      for (const char c : chars[i]) ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
    } else if (unk_id_ >= 0) {
      if (fuse_unk_ && !ids.empty() && ids.back() == unk_id_) continue;
      ids.push_back(unk_id_);
    }
    // No unk token and no byte fallback: the character is dropped, as the reference does.
  }
}

// The merges applied to a word's symbols, lowest rank first; among equal
// ranks the leftmost pair. The symbols are a linked list; a queue entry whose
// pair has changed since it was pushed is stale and skipped.
void BpeModel::apply_merges(const std::vector<int32_t>& ids, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int prev, next;
    bool alive;
  };
  const int n = static_cast<int>(ids.size());
  thread_local std::vector<Symbol> symbols;  // scratch, reused
  symbols.resize(ids.size());
  for (int i = 0; i < n; ++i) symbols[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};

  struct Candidate {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push_pair = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Merge* merge = merges_.find(pair_key(symbols[left].id, symbols[symbols[left].next].id));
    if (merge) queue.push({merge->rank, left, merge->new_id});
  };
  for (int i = 0; i + 1 < n; ++i) push_pair(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* merge = merges_.find(pair_key(left.id, right.id));
    if (!merge || merge->new_id != top.new_id) continue;  // stale entry
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int i = 0; i >= 0 && i < n; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace imsm
