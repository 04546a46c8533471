#!/usr/bin/env bash
# Runs one built libFuzzer target for SECONDS on its seed corpus
# (tests/fuzz/corpus/NAME, read-only; new inputs go to BUILD/corpus/NAME) with
# the JSON dictionary. Any crash, leak, sanitizer report or timeout fails it
# and leaves the input in BUILD/findings/NAME/. Prints one line of figures.
# Called by tests/fuzz/run.sh and by CTest (the fuzz_* tests of the sanitizer
# build that installer/run-tests.sh runs).
#
# With RUNS it stops after that many executions or SECONDS, whichever first.
#
#   tests/fuzz/run_one.sh BUILD NAME SECONDS [RUNS]
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run_one.sh BUILD NAME SECONDS [RUNS]} name=${2:?} seconds=${3:?} runs=${4:--1}
work="$build/corpus/$name" findings="$build/findings/$name" log="$build/fuzz_$name.log"
mkdir -p "$work" "$findings"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if "$build/fuzz/fuzz_$name" "$work" "$here/tests/fuzz/corpus/$name" -dict="$here/tests/fuzz/json.dict" \
    -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1; then
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "fuzz_$name: ${executed:-?} executions in ${took:-$seconds} s, ${cov:-cov: ?} edges, no finding"
else
  echo "fuzz_$name: FINDING (see $log; the input is in $findings/)" >&2
  grep -m3 -E "ERROR|runtime error|finding:|not imsm::Error|not one printable" "$log" >&2 || tail -5 "$log" >&2
  exit 1
fi
