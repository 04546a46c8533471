// The BPE model of tokenizer.json: vocab, ranked merges, byte_fallback,
// unk/fuse_unk, ignore_merges, continuing_subword_prefix, end_of_word_suffix.
// Words seen before come from a cache (as the reference's: up to 10,000
// words of at most 256 bytes; threads share it and never wait for it).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

class BpeModel {
 public:
  BpeModel(const nlohmann::json& model, const std::string& where);
  ~BpeModel();
  BpeModel(BpeModel&&) noexcept;

  // Appends the ids of one pre-tokenized word.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  int32_t token_to_id(std::string_view token) const;  // -1 when unknown
  const std::string& id_to_token(int32_t id) const;    // "" when unknown
  int64_t size() const { return static_cast<int64_t>(id_to_token_.size()); }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  // Lookups by string_view without a copy.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct WordCache;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;  // encode_word without the cache
  void character_ids(std::string_view word, std::vector<int32_t>& ids) const;       // before any merge
  void apply_merges(const std::vector<int32_t>& ids, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> token_to_id_;
  std::unique_ptr<WordCache> cache_;
  std::vector<std::string> id_to_token_;
  // The merges by pair of ids, the hot lookup of encoding: open addressing
  // (a power-of-two table, linear probing, at most half full).
  class MergeTable {
   public:
    void insert(uint64_t key, Merge merge);  // the first insert of a key wins (the best rank)
    const Merge* find(uint64_t key) const;

   private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);  // no pair of ids (both >= 0) has this key
    size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_); }
    void grow();
    std::vector<uint64_t> keys_;
    std::vector<Merge> values_;
    size_t used_ = 0;
    int shift_ = 64;
  };
  MergeTable merges_;
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::vector<int32_t> byte_ids_;  // <0xXX> token ids when byte_fallback (or -1)
};

}  // namespace imsm
