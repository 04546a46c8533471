#!/usr/bin/env bash
# A missing or broken Python environment stops the set-up and CMake with one
# line that says what to run, and leaves nothing that looks installed.
#   bad_environment.sh SOURCE_DIR
set -uo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect NAME RC OUTPUT NEEDLE...: a non-zero exit and every needle in the output
  local name=$1 rc=$2 out=$3
  shift 3
  if [ "$rc" -eq 0 ]; then echo "FAIL $name: exit 0"; fail=1; return; fi
  for n in "$@"; do
    grep -qF -- "$n" <<<"$out" || { echo "FAIL $name: \"$n\" not in: $out"; fail=1; return; }
  done
  echo "ok   $name: $(grep -m1 -F -- "$1" <<<"$out")"
}

# CMake with no environment where IMSM_PYTHON points.
out=$(cmake -S "$src" -B "$tmp/b1" -DIMSM_PYTHON="$tmp/none/bin/python" -DIMSM_WITH_GUI=OFF 2>&1); rc=$?
expect "cmake, no venv" $rc "$out" "No Python environment at $tmp/none/bin/python" "installer/setup-venv.sh"
# CMake with a python that has no torch (a bare venv).
python3 -m venv "$tmp/bare" >/dev/null 2>&1
out=$(cmake -S "$src" -B "$tmp/b2" -DIMSM_PYTHON="$tmp/bare/bin/python" -DIMSM_WITH_GUI=OFF 2>&1); rc=$?
expect "cmake, venv without torch" $rc "$out" "cannot import torch" "No module named 'torch'" "installer/setup-venv.sh"
# The set-up pointed at an environment that cannot serve.
out=$(IMSM_VENV="$tmp/bare" bash "$src/installer/setup-venv.sh" 2>&1); rc=$?
expect "setup-venv, IMSM_VENV without torch" $rc "$out" "setup-venv: IMSM_VENV=$tmp/bare: cannot import torch"
[ "$(grep -c . <<<"$out")" -eq 1 ] || { echo "FAIL setup-venv: more than one line: $out"; fail=1; }
out=$(IMSM_VENV="$tmp/nowhere" bash "$src/installer/setup-venv.sh" 2>&1); rc=$?
expect "setup-venv, IMSM_VENV missing" $rc "$out" "is not a virtual environment"
exit $fail
