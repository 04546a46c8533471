#include "io/atomic_dir.h"

#include <filesystem>
#include <system_error>

#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

// `inner` is `outer` or inside it.
bool within(const fs::path& inner, const fs::path& outer) {
  const std::string a = fs::weakly_canonical(inner).string() + "/", b = fs::weakly_canonical(outer).string() + "/";
  return a.compare(0, b.size(), b) == 0;
}

}  // namespace

void check_output_dir(const std::string& dir, bool force, const std::vector<std::string>& sources, const std::string& flag,
                      const std::string& verb) {
  if (dir.empty()) throw_bad_input(flag, "is empty: name the folder to write");
  for (const std::string& source : sources)
    if (!source.empty() && within(source, dir))
      throw_bad_input(dir, "holds " + source + ", which " + verb + " reads: choose another " + flag);
  std::error_code ec;
  if (!force && fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw_bad_input(dir, "exists and is not empty: choose another " + flag + ", or replace it with --force");
}

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
