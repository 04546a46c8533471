// A Hugging Face folder's tokenizer as llama.cpp's GGUF metadata
// (tokenizer.ggml.*, tokenizer.chat_template), as convert_hf_to_gguf.py and
// gguf-py's SpecialVocab write it: the vocabulary by id, padded to the
// embedding's rows with [PAD<i>] tokens; each token's type (1 normal, 3
// control for special added tokens and those that look special, 4
// user-defined for other added tokens, 5 the padding); the merges as "a b";
// the pre-tokenizer's llama.cpp name; BOS/EOS/padding ids from
// tokenizer_config.json's token texts, then config.json's ids; whether BOS
// and EOS are added as this engine's tokenizer adds them; the chat template
// (chat_template.jinja, else tokenizer_config.json's). The inverse of
// gguf_tokenizer.h for byte-level BPE vocabularies. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/hf_config.h"

namespace imsm {

class GgufWriter;

struct GgufVocab {
  std::string model = "gpt2";          // tokenizer.ggml.model
  std::string pre;                     // tokenizer.ggml.pre: "smollm", "llama-bpe", "qwen2", "gpt-2"
  std::vector<std::string> tokens;     // by id, config.vocab_size of them
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;     // "a b"
  int64_t bos = -1, eos = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  std::string chat_template;           // "" when the model has none
  std::vector<std::string> stop_tokens;  // the texts of every end-of-sequence id (config, generation_config, tokenizer)
};

// BadInput naming the file: no tokenizer.json, a tokenizer that is not
// byte-level BPE (SentencePiece vocabularies are not written yet), a
// pre-tokenizer that splits as none of llama.cpp's known ones, more tokens
// than the model's embedding has rows, a special token's text that is no token.
GgufVocab read_hf_vocab(const std::string& model_dir, const ModelConfig& config);

// The tokenizer.* keys.
void write_gguf_vocab(GgufWriter& writer, const GgufVocab& vocab);

}  // namespace imsm
