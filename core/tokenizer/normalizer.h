// tokenizer.json normalizers: NFC/NFD/NFKC/NFKD, Prepend, Replace, Lowercase,
// Strip, Sequence.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace imsm {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string text) const = 0;
};

// null -> nullptr. Unknown type: BadInput naming `where` and the type.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec, const std::string& where);

}  // namespace imsm
