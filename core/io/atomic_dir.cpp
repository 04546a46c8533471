#include "io/atomic_dir.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace imsm {

void write_dir_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& write) {
  const std::string tmp = dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    write(tmp);
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

}  // namespace imsm
