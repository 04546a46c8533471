// tokenizer.json pre-tokenizers: ByteLevel, Split, Metaspace, Digits,
// WhitespaceSplit, Sequence. A pre-tokenizer cuts a normalized section into
// words; BPE then runs on each word.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Cuts every word of `words` further. `first_section` is true for the first
  // section of the input (Metaspace's prepend_scheme "first").
  virtual std::vector<std::string> split(std::vector<std::string> words, bool first_section) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec, const std::string& where);

}  // namespace imsm
