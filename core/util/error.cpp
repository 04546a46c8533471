#include "util/error.h"

#include "util/utf8.h"

namespace imsm {

// One printable line, whatever bytes of a file the message quotes.
void throw_bad_input(const std::string& where, const std::string& problem) {
  throw Error(ErrorKind::BadInput, utf8::printable(where.empty() ? problem : where + ": " + problem));
}

void throw_internal(const std::string& message) { throw Error(ErrorKind::Internal, utf8::printable(message)); }

}  // namespace imsm
