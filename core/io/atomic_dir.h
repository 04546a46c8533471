// A folder written whole or not at all: `write` fills DIR.tmp, which then
// replaces DIR (whatever DIR held goes only once the new one is whole). When
// `write` throws, DIR.tmp is removed and DIR is left as it was. Torch-free.
#pragma once
#include <functional>
#include <string>

namespace imsm {

void write_dir_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& write);

}  // namespace imsm
