#include "util/utf8.h"

#include <cstdio>

namespace imsm::utf8 {

int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

std::string encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

namespace {
// Number of bytes of a valid sequence at text[i], or 0 when it is invalid.
size_t valid_length(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const int n = sequence_length(lead);
  if (n == 1) return lead < 0x80 ? 1 : 0;
  if (i + n > text.size()) return 0;
  uint32_t cp = lead & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return static_cast<size_t>(n);
}
}  // namespace

std::vector<std::string_view> characters(std::string_view text) {
  std::vector<std::string_view> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = valid_length(text, i);
    if (n == 0) n = 1;
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

bool is_valid(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = valid_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string make_valid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = valid_length(bytes, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      // Skip the maximal invalid prefix one byte at a time, as from_utf8_lossy does
      // for a lone byte; a truncated multi-byte sequence becomes one replacement.
      const int want = sequence_length(static_cast<unsigned char>(bytes[i]));
      size_t skip = 1;
      while (want > 1 && skip < static_cast<size_t>(want) && i + skip < bytes.size() &&
             (static_cast<unsigned char>(bytes[i + skip]) & 0xC0) == 0x80)
        ++skip;
      i += skip;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char hex[8];
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t n = valid_length(text, i);
    if (n == 0 || c < 0x20 || c == 0x7F) {  // a byte that is not valid UTF-8, or an ASCII control
      if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else std::snprintf(hex, sizeof hex, "\\x%02X", c), out += hex;
      ++i;
      continue;
    }
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {  // a C1 control, U+0080..U+009F
      std::snprintf(hex, sizeof hex, "\\u%04X", static_cast<unsigned char>(text[i + 1]));
      out += hex;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace imsm::utf8
