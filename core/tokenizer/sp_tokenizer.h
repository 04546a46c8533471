// SentencePiece tokenizer.model through libsentencepiece.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"

namespace imsm {

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& model_path, const TokenizerConfig& config);

}  // namespace imsm
