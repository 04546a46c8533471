#include "tokenizer/sp_tokenizer.h"

#include <sentencepiece_processor.h>

#include "util/error.h"

namespace imsm {

namespace {

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& path, const TokenizerConfig& config) {
    const auto status = processor_.Load(path);
    if (!status.ok()) throw_bad_input(path, "not a SentencePiece model (" + status.ToString() + ")");
    add_bos_ = config.add_bos_token.value_or(true);  // LlamaTokenizer's default
    add_eos_ = config.add_eos_token.value_or(false);
    bos_id_ = config.bos_token.empty() ? processor_.bos_id() : processor_.PieceToId(config.bos_token);
    const int eos = config.eos_token.empty() ? processor_.eos_id() : processor_.PieceToId(config.eos_token);
    if (eos >= 0) eos_ids_.push_back(eos);
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    std::vector<int> pieces;
    processor_.Encode(std::string(text), &pieces).IgnoreError();
    std::vector<int32_t> ids;
    if (add_special_tokens && add_bos_ && bos_id_ >= 0) ids.push_back(bos_id_);
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    if (add_special_tokens && add_eos_ && !eos_ids_.empty()) ids.push_back(eos_ids_[0]);
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::vector<int> kept;
    for (const int32_t id : ids) {
      if (id < 0 || id >= processor_.GetPieceSize())
        throw_bad_input("decode", "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                      std::to_string(processor_.GetPieceSize() - 1) + ")");
      if (skip_special_tokens && is_special(id)) continue;
      kept.push_back(id);
    }
    std::string text;
    processor_.Decode(kept, &text).IgnoreError();
    return text;
  }

  int64_t vocab_size() const override { return processor_.GetPieceSize(); }
  std::string id_to_token(int32_t id) const override {
    return id >= 0 && id < processor_.GetPieceSize() ? processor_.IdToPiece(id) : std::string();
  }
  int32_t token_to_id(std::string_view token) const override {
    const int id = processor_.PieceToId(std::string(token));
    return id == processor_.unk_id() && token != processor_.IdToPiece(id) ? -1 : id;
  }
  bool is_special(int32_t id) const override {
    return processor_.IsControl(id) || processor_.IsUnknown(id);
  }
  std::string kind() const override { return "tokenizer.model: SentencePiece"; }

 private:
  sentencepiece::SentencePieceProcessor processor_;
  bool add_bos_ = true, add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path, const TokenizerConfig& config) {
  return std::make_unique<SentencePieceTokenizer>(path, config);
}

}  // namespace imsm
