#!/usr/bin/env bash
# Quick start, second command: build if needed and run every test.
#  1. the Release build: unit, tokenizer-parity, model and CLI tests (ctest);
#  2. the parsers and tokenizers again under AddressSanitizer + UBSan, and
#     a short run of every fuzzer (a torch-free clang Debug build in build-asan/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash installer/check-disk.sh installer/run-tests.sh
bash installer/setup-debian.sh
bash installer/build.sh
ctest --test-dir build --output-on-failure -j2

echo "== parsers, tokenizers, metrics and workspace under AddressSanitizer + UndefinedBehaviorSanitizer, and their fuzzers"
# One clang build (torch-free, Debug): the unit tests under the sanitizers, and
# every libFuzzer target of tests/fuzz run ${IMSM_FUZZ_SECONDS:-15} s on its
# seed corpus as a CTest test (a crash, leak, sanitizer report or hang fails).
if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' build-asan/CMakeCache.txt; then
  rm -rf build-asan  # an older clone's GCC sanitizer build
fi
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIMSM_WITH_TORCH=OFF -DIMSM_FUZZ=ON \
  -DIMSM_FUZZ_SECONDS="${IMSM_FUZZ_SECONDS:-15}" >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
