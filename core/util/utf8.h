// Small UTF-8 helpers shared by the tokenizers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imsm::utf8 {

// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for invalid leads).
int sequence_length(unsigned char lead);

// Encodes one code point as UTF-8.
std::string encode(uint32_t code_point);

// Splits a string into its characters (each a valid UTF-8 sequence, or a single
// byte where the input is not valid UTF-8).
std::vector<std::string_view> characters(std::string_view text);

// True when the whole string is valid UTF-8.
bool is_valid(std::string_view text);

// Replaces invalid sequences with U+FFFD, as Rust's String::from_utf8_lossy.
std::string make_valid(std::string_view bytes);

// The text as one printable line: bytes that are not valid UTF-8 and control
// characters (ASCII and C1) escaped as \xNN, \n, \r, \t, \u0080..\u009F;
// valid characters, whatever the script, as they are. For error messages that
// quote a file's bytes.
std::string printable(std::string_view text);

}  // namespace imsm::utf8
