// tokenizer.json decoders: ByteLevel, Metaspace, Replace, ByteFallback, Fuse,
// Strip, Sequence. A decoder turns token strings into text pieces.
#pragma once
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace imsm {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // `added` holds the contents of added tokens, which ByteLevel passes through.
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens,
                                                const std::unordered_set<std::string>& added) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec, const std::string& where);

}  // namespace imsm
