#include "tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "util/utf8.h"

namespace imsm::byte_level {

namespace {
struct Table {
  std::array<std::string, 256> to_char;
  std::unordered_map<std::string, unsigned char> to_byte;
  Table() {
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = printable[b] ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + next++);
      to_char[b] = utf8::encode(cp);
      to_byte[to_char[b]] = static_cast<unsigned char>(b);
    }
  }
};
const Table& table() {
  static const Table t;
  return t;
}
}  // namespace

const std::string& char_of_byte(unsigned char byte) { return table().to_char[byte]; }

std::string encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 2);
  for (const char c : text) out += table().to_char[static_cast<unsigned char>(c)];
  return out;
}

std::string decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const auto ch : utf8::characters(text)) {
    const auto it = table().to_byte.find(std::string(ch));
    if (it != table().to_byte.end()) out += static_cast<char>(it->second);
    else out.append(ch);
  }
  return out;
}

}  // namespace imsm::byte_level
