// GPT-2's byte <-> printable-character table used by ByteLevel pre-tokenizers
// and decoders.
#pragma once
#include <string>
#include <string_view>

namespace imsm::byte_level {

// UTF-8 of the character that stands for `byte`.
const std::string& char_of_byte(unsigned char byte);
// All bytes of `text` mapped to their characters.
std::string encode(std::string_view text);
// Inverse of encode; characters outside the table are kept as their UTF-8 bytes.
std::string decode(std::string_view text);

}  // namespace imsm::byte_level
