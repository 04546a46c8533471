#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, optimised, build-fuzz/)
# and runs one or all of them for SECONDS each, or until RUNS executions
# (tests/fuzz/run_one.sh), two at a time on a machine with two or more
# cores. Any crash, leak, sanitizer report or timeout fails it; the input
# that did it is left in build-fuzz/findings/NAME/. One line of figures per
# target.
#
#   tests/fuzz/run.sh TARGET|all SECONDS [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: tests/fuzz/run.sh TARGET|all SECONDS [RUNS]}
seconds=${2:?usage: tests/fuzz/run.sh TARGET|all SECONDS [RUNS]}
runs=${3:--1}
build="$here/build-fuzz"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMSM_WITH_TORCH=OFF \
    -DIMSM_BUILD_TESTS=OFF -DIMSM_FUZZ=ON >/dev/null
fi
targets=$(sed -n '/^set(IMSM_FUZZ_TARGETS/,/)/p' "$here/tests/fuzz/CMakeLists.txt" | sed 's/set(IMSM_FUZZ_TARGETS//; s/)//' | tr '\n' ' ')
# fuzz_gguf exists where llama.cpp's ggml was found (installer/setup-llama-cpp.sh).
cmake --build "$build" --target help 2>/dev/null | grep -q ' fuzz_gguf$' && targets="$targets gguf"
[ "$target" = all ] || targets=$target
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' $targets) >/dev/null
jobs=$(( $(nproc) > 1 ? 2 : 1 ))
printf '%s\n' $targets | xargs -P "$jobs" -I{} "$here/tests/fuzz/run_one.sh" "$build" {} "$seconds" "$runs"
