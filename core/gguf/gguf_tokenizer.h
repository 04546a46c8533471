// A GGUF file's tokenizer (tokenizer.ggml.*) as Hugging Face's tokenizer.json
// and tokenizer_config.json, built as transformers' GGUF loader builds them so
// that both give the same ids. Torch-free.
//
//  - "gpt2": byte-level BPE with the file's merges; the split before it from
//    tokenizer.ggml.pre (llama.cpp's pre-tokenizer names: smollm's digits,
//    llama-bpe's and qwen2's regexes, gpt-2's); control tokens (type 3)
//    added as special, user-defined ones (type 4) as plain added tokens.
//  - "llama": SentencePiece BPE with byte fallback; the merges, which the file
//    does not hold, recovered from the vocabulary and its scores as
//    transformers does (generate_merges).
// tokenizer_config.json carries the chat template, the special tokens and
// whether BOS/EOS are added.
#pragma once
#include <string>

#include "gguf/gguf_file.h"
#include "io/json_file.h"

namespace imsm {

struct GgufTokenizer {
  std::string model;              // "gpt2" | "llama"
  std::string pre;                // tokenizer.ggml.pre, "" when absent
  nlohmann::json tokenizer;       // tokenizer.json
  nlohmann::json config;          // tokenizer_config.json
  bool has_chat_template = false;
};

// BadInput naming the file and key: no vocabulary, a tokenizer model or
// pre-tokenizer that is not supported (with the list), ids out of range.
GgufTokenizer read_gguf_tokenizer(const GgufFile& file, int64_t context_length);

// The split before byte-level BPE of llama.cpp's pre-tokenizer name
// (tokenizer.ggml.pre: its llama-vocab.cpp regexes, as transformers' GGUF
// loader writes them); ignore_merges is set for the Llama 3 family. BadInput
// naming `path` for a name not supported (with the list).
nlohmann::json gguf_pre_tokenizer(const std::string& pre, const std::string& path, bool& ignore_merges);

// The other way: llama.cpp's name of a tokenizer.json pre-tokenizer that
// splits as one of those ("smollm", "llama-bpe", "qwen2", "gpt-2"; the Llama 3
// split is "smaug-bpe" when the BPE model does not ignore merges, as llama.cpp
// tells the two apart); "" when none does.
std::string gguf_pre_name(const nlohmann::json& pre_tokenizer, bool ignore_merges);

}  // namespace imsm
