#!/usr/bin/env bash
# GGUF import: `imsm import-gguf` of the SmolLM2-135M-Instruct Q4_1 file
# against transformers' GGUF loader (from_pretrained(gguf_file=...), which
# dequantizes with the `gguf` package), each made to produce fp32 weights in
# memory or on disk, alternately, ROUNDS times; prints each run's wall time,
# the medians and their ratio, and the peak resident set of each tool.
# Figures: docs/PERFORMANCE.md.
#   bash tests/bench/bench_import_gguf.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build}/bin rounds=${2:-3}
gguf=$root/.models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$gguf" ] || { echo "bench_import_gguf: no $gguf: run installer/setup-models.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=$root/.venv/bin/python
measure() {  # prints "seconds peak_kib"
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
  cat "$work/time"
}
imsm_t=() hf_t=()
for r in $(seq "$rounds"); do
  read -r s1 m1 < <(measure "$bin/imsm" import-gguf "$gguf" --out "$work/out" --force)
  read -r s2 m2 < <(measure "$python" -c "
import sys, torch
from transformers import AutoModelForCausalLM
m = AutoModelForCausalLM.from_pretrained(sys.argv[1], gguf_file=sys.argv[2], dtype=torch.float32)
" "$(dirname "$gguf")" "$(basename "$gguf")")
  echo "round $r: imsm import-gguf ${s1} s (peak ${m1} KiB, folder written) | transformers from_pretrained(gguf_file) ${s2} s (peak ${m2} KiB, in memory only)"
  imsm_t+=("$s1") hf_t+=("$s2")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mi=$(median "${imsm_t[@]}") mh=$(median "${hf_t[@]}")
echo "median: imsm ${mi} s, transformers ${mh} s: transformers takes $(awk -v a="$mh" -v b="$mi" 'BEGIN {printf "%.1f", a / b}')x imsm's time"
