#!/usr/bin/env bash
# Configures (once) and builds the Release tree in build/ (binaries in build/bin/).
# Incremental: ccache and a precompiled LibTorch header keep rebuilds short.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
if [ ! -f "$here/build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release -DIMSM_WITH_GUI=ON -DIMSM_WITH_GGUF=ON >/dev/null
fi
cmake --build "$here/build" -j"$jobs"
