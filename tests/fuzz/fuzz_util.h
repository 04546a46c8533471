// What the fuzz targets share: the input as a file (the readers take paths),
// and the one rule they check beside the sanitizers: bad input is an
// imsm::Error, one printable line, never another exception.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "util/error.h"
#include "util/utf8.h"

namespace imsm::fuzz {

// A file of this process under /dev/shm (or /tmp) holding `bytes`; `suffix`: its extension.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/imsm-fuzz-" + std::to_string(getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// A property the target checks does not hold: reported, and the input kept.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::abort();
}

inline std::string write_text(const std::string& text, const std::string& suffix) {
  return write_input(reinterpret_cast<const uint8_t*>(text.data()), text.size(), suffix);
}

// Runs `read`: what it throws must be bad input (ErrorKind::BadInput: a
// malformed file is the user's to fix, never an "internal error") in one
// printable line; any other exception is a finding.
inline void expect_clean(const std::function<void()>& read) {
  try {
    read();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (e.kind() != ErrorKind::BadInput) finding("an internal error, not bad input: " + utf8::printable(message));
    if (message.empty() || !utf8::is_valid(message) || utf8::printable(message) != message)
      finding("not one printable line: " + utf8::printable(message));
  } catch (const std::exception& e) {
    finding(std::string("an exception that is not imsm::Error: ") + utf8::printable(e.what()));
  }
}

}  // namespace imsm::fuzz
