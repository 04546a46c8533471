#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and runs one
# or all of them for SECONDS each on their seed corpus (tests/fuzz/corpus/NAME,
# read-only; new inputs go to build-fuzz/corpus/NAME) with the JSON dictionary.
# Any crash, leak, sanitizer report or timeout fails it; the input that did it
# is left in build-fuzz/findings/NAME/. One line of figures per target.
#
#   tests/fuzz/run.sh TARGET|all SECONDS
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: tests/fuzz/run.sh TARGET|all SECONDS}
seconds=${2:?usage: tests/fuzz/run.sh TARGET|all SECONDS}
build="$here/build-fuzz"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMSM_WITH_TORCH=OFF \
    -DIMSM_BUILD_TESTS=OFF -DIMSM_FUZZ=ON >/dev/null
fi
targets=$(sed -n 's/^set(IMSM_FUZZ_TARGETS \(.*\))$/\1/p' "$here/tests/fuzz/CMakeLists.txt")
[ "$target" = all ] || targets=$target
for t in $targets; do cmake --build "$build" -j"$(nproc)" --target "fuzz_$t" >/dev/null; done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in $targets; do
  work="$build/corpus/$t" findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  log="$build/fuzz_$t.log"
  if "$build/fuzz/fuzz_$t" "$work" "$here/tests/fuzz/corpus/$t" -dict="$here/tests/fuzz/json.dict" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$t: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?} edges, no finding"
  else
    echo "fuzz_$t: FINDING (see $log; the input is in $findings/)" >&2
    grep -m3 -E "ERROR|runtime error|not imsm::Error|not one printable" "$log" >&2 || tail -5 "$log" >&2
    status=1
  fi
done
exit $status
