// tokenizer_config.json: the parts that change how ids come out.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace imsm {

struct TokenizerConfig {
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  std::string bos_token;   // "" when none
  std::string eos_token;
  std::vector<std::string> additional_special_tokens;
  bool clean_up_tokenization_spaces = true;  // read, not applied: transformers 5 ignores it for BPE (hf_tokenizer.cpp)
};

// Missing file: defaults. Malformed: BadInput naming the file.
TokenizerConfig read_tokenizer_config(const std::string& path);

}  // namespace imsm
