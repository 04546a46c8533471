#!/usr/bin/env bash
# This engine against transformers + PEFT (training), transformers' generate
# (evaluation) and llama.cpp (batch-1 decoding) on SmolLM2-135M-Instruct, in
# one run (tests/bench/peers.py says what each part measures). Needs the
# set-up's venv, model and llama.cpp (installer/quickstart.sh makes them).
# Builds llama.cpp's llama-bench once into its cached build and writes the
# model's f16, bf16 and q8_0 GGUFs (llama.cpp's convert_hf_to_gguf.py) into
# the cache beside it. Figures: docs/PERFORMANCE.md.
#   bash tests/bench/bench_vs_peers.sh [BUILD_DIR] [--parts train,eval,decode] [--threads 2]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
shift || true
python=$root/.venv/bin/python model=$root/.models/SmolLM2-135M-Instruct llama=$root/.llama.cpp
for need in "$python" "$model/config.json" "$llama/build" "$build/bin/imsm"; do
  [ -e "$need" ] || { echo "bench_vs_peers: no $need: run installer/quickstart.sh (or the set-up scripts it calls) first" >&2; exit 1; }
done
bench=$llama/build/bin/llama-bench
if [ ! -x "$bench" ]; then
  echo "bench_vs_peers: building llama.cpp's llama-bench (once) ..." >&2
  cmake --build "$llama/build" --target llama-bench -j"$(nproc)" >"$llama/build-llama-bench.log" 2>&1 \
    || { echo "bench_vs_peers: building llama-bench failed: see $llama/build-llama-bench.log" >&2; exit 1; }
fi
ggufs=$(readlink -f "$llama")-smollm2-gguf
mkdir -p "$ggufs"
for type in f16 bf16 q8_0; do
  out=$ggufs/smollm2.$type.gguf
  [ -s "$out" ] && continue
  echo "bench_vs_peers: writing $out (convert_hf_to_gguf.py, once) ..." >&2
  PYTHONPATH=$llama/src/gguf-py NO_LOCAL_GGUF=1 "$python" "$llama/src/convert_hf_to_gguf.py" "$model" \
    --outtype "$type" --outfile "$out.part" >"$ggufs/convert-$type.log" 2>&1 \
    || { echo "bench_vs_peers: converting to $type failed: see $ggufs/convert-$type.log" >&2; exit 1; }
  mv "$out.part" "$out"
done
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "date: $(date -u +%Y-%m-%d), imsm $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
exec "$python" "$root/tests/bench/peers.py" --imsm "$build/bin/imsm" --model "$model" --data "$root/../shared/data/imsm-official" \
  --gguf-dir "$ggufs" --llama-bench "$bench" "$@"
