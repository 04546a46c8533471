// A folder written whole or not at all: `write` fills DIR.tmp, which then
// replaces DIR (whatever DIR held goes only once the new one is whole). When
// `write` throws, DIR.tmp is removed and DIR is left as it was. Torch-free.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace imsm {

// The check before writing DIR with write_dir_atomically: BadInput naming
// `flag` when it is empty, naming DIR when it holds one of `sources` (which
// the writer reads) or, without force, exists and is not empty. `verb` says
// who reads the sources: "export", "import-gguf".
void check_output_dir(const std::string& dir, bool force, const std::vector<std::string>& sources, const std::string& flag,
                      const std::string& verb);

void write_dir_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& write);

}  // namespace imsm
