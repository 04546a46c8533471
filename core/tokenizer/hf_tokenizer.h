// Loader of Hugging Face tokenizer.json files (BPE models).
#pragma once
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"

namespace imsm {

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json, const TokenizerConfig& config);

}  // namespace imsm
