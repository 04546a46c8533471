// Errors of the engine. Library code never exits: it throws imsm::Error, and
// the caller (CLI, GUI) turns it into a message and an exit code / dialog.
#pragma once
#include <stdexcept>
#include <string>

namespace imsm {

enum class ErrorKind {
  BadInput,   // the user's files or arguments are wrong (CLI exit code 2)
  Internal,   // a bug or an environment failure (CLI exit code 1)
  Cancelled,  // the abort callback asked to stop
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// One clear line: "<where>: <problem>". `where` is a file, file:line or a key.
// Bytes that are not printable (invalid UTF-8, control characters) are
// escaped (utf8::printable): a message may quote a file's raw bytes.
[[noreturn]] void throw_bad_input(const std::string& where, const std::string& problem);
[[noreturn]] void throw_internal(const std::string& message);

}  // namespace imsm
