#include "util/error.h"

namespace imsm {

void throw_bad_input(const std::string& where, const std::string& problem) {
  throw Error(ErrorKind::BadInput, where.empty() ? problem : where + ": " + problem);
}

void throw_internal(const std::string& message) { throw Error(ErrorKind::Internal, message); }

}  // namespace imsm
