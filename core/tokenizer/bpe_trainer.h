// Training a byte-level BPE tokenizer (256 byte symbols, merges learned by
// pair frequency; pre-tokenized by the GPT-2 regex, or by Qwen2's, which
// splits numbers into single digits)
// and writing it as a standard Hugging Face tokenizer.json, which the ordinary
// loader — and Hugging Face's — read. Deterministic: ties between equally
// frequent pairs go to the pair that sorts first. Torch-free.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

struct BpeTrainOptions {
  int64_t vocab_size = 4096;  // bytes + merges + special tokens
  int64_t min_frequency = 2;  // a pair seen fewer times is never merged
  std::vector<std::string> special_tokens = {"<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"};
  std::string bos_token = "<|begin_of_text|>";  // added before every encoded text ("" = none)
  std::string eos_token = "<|end_of_text|>";
  // true: Qwen2's pre-tokenizer (a Split on its regex, then ByteLevel without
  // regex): every digit is its own token, so "72" and "27" share their
  // digits' embeddings — what small models need to learn arithmetic.
  // false: GPT-2's ByteLevel regex (" 72" may become one token).
  bool split_digits = true;
};

struct TrainedBpe {
  std::vector<std::string> vocab;                           // id -> token (byte-level characters), specials last
  std::vector<std::pair<std::string, std::string>> merges;  // in order of priority
};

// `on_merge(done, total)` reports progress (may be empty).
TrainedBpe train_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& options,
                   const std::function<void(int64_t, int64_t)>& on_merge = {});

// tokenizer.json (BPE with the pre-tokenizer above, ByteLevel decoder, the special
// tokens as added tokens, a TemplateProcessing that prepends BOS) and the
// tokenizer_config.json that names BOS and EOS.
nlohmann::ordered_json tokenizer_json(const TrainedBpe& model, const BpeTrainOptions& options);
nlohmann::ordered_json tokenizer_config_json(const BpeTrainOptions& options);

}  // namespace imsm
