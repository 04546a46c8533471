#!/usr/bin/env bash
# Quick start, second command: build if needed and run every test.
#  1. the Release build: unit, tokenizer-parity, model and CLI tests (ctest);
#  2. the parsers and tokenizers again under AddressSanitizer + UBSan
#     (a torch-free Debug build in build-asan/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash installer/setup-debian.sh
bash installer/build.sh
ctest --test-dir build --output-on-failure -j2

echo "== parsers, tokenizers, metrics and workspace under AddressSanitizer + UndefinedBehaviorSanitizer"
if [ ! -f build-asan/CMakeCache.txt ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIMSM_WITH_TORCH=OFF -DIMSM_SANITIZE=ON >/dev/null
fi
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
