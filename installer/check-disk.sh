#!/usr/bin/env bash
# Refuses, in one line, to start a build or test run on a disk too full for
# it (a run that starts anyway fails later in scattered places: a compiler's
# "No space left on device", a GGUF half written, the frozen-memory file
# stopped at its 4 GiB margin). Usage: installer/check-disk.sh WHAT
# What a run needs, in GiB, beside what the clone already holds:
#   build/ missing: 7 (the Release build); build-asan/ missing: 2;
#   the venv missing (~/.cache/imsm-workbench/venv-*): 6;
#   always: 5 (the frozen-memory tests keep 4 free, the tests' files 1).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-the run}
need=5
[ -f "$here/build/CMakeCache.txt" ] || need=$((need + 7))
[ -f "$here/build-asan/CMakeCache.txt" ] || need=$((need + 2))
[ -x "$here/.venv/bin/python" ] || need=$((need + 6))
free_kib=$(df -Pk "$here" | awk 'NR == 2 { print $4 }')
free=$((free_kib / 1024 / 1024))
if [ "$free" -lt "$need" ]; then
  echo "$what: only $free GiB free on the disk of $here (df -h $here); it needs about $need GiB." \
       "Free some (other clones' build/ folders; unused venv-* in ${IMSM_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imsm-workbench}) and run it again." >&2
  exit 1
fi
