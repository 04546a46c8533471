// The tokenizer interface of the engine: Hugging Face tokenizer.json, or a
// SentencePiece tokenizer.model, behind one small API.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace imsm {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Text -> ids. Special-token text inside `text` is matched as the reference
  // does; add_special_tokens adds BOS/EOS as the post-processor says.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const = 0;
  // Ids -> text. Throws BadInput for an id outside the vocabulary.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const = 0;

  virtual int64_t vocab_size() const = 0;                    // highest id + 1
  virtual std::string id_to_token(int32_t id) const = 0;      // "" when unknown
  virtual int32_t token_to_id(std::string_view token) const = 0;  // -1 when unknown
  virtual bool is_special(int32_t id) const = 0;
  virtual std::string kind() const = 0;                       // for people: "tokenizer.json: BPE (ByteLevel)"

  // The text a single generated token adds (what a viewer shows for it).
  std::string piece(int32_t id) const { return decode({id}, false); }

  int32_t bos_id() const { return bos_id_; }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }

 protected:
  int32_t bos_id_ = -1;
  std::vector<int32_t> eos_ids_;
};

// `path` is a tokenizer.json, a tokenizer.model or a model folder (which is
// searched for tokenizer.json, then tokenizer.model; tokenizer_config.json
// beside it is read for add_bos_token and the bos/eos tokens).
// Throws imsm::Error (BadInput) naming the file and the problem.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace imsm
