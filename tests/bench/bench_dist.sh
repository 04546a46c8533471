#!/usr/bin/env bash
# Data-parallel training on one machine: the same `imsm train` (the bundled
# wordnet-base model, LoRA + IMSM query gate, 1024 arith examples, global batch
# 16, 1 epoch = 64 optimizer steps) as 1 process x 2 threads and as
# 2 processes x 1 thread (torchrun, Gloo over loopback). Prints for each the
# training throughput (tokens/s of the trainer's own clock: after loading and
# the rendezvous) and the wall time of the whole command, their ratios, and
# the bytes each rank all-reduces per optimizer step (the trainable
# parameters in fp32, plus 3 fp64 sums). Figures: docs/PERFORMANCE.md.
#   bash tests/bench/bench_dist.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build}/bin
torchrun=$root/.venv/bin/torchrun
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/imsm" make-data --task arith --count 1024 --seed 1 --out "$work/train.jsonl" >/dev/null 2>&1
config() {  # $1: output folder
  cat > "$work/$1.json" <<JSON
{"model_path": "$root/resources/models/wordnet-base", "data_path": "$work/train.jsonl", "peft": "lora", "variant": "query",
 "lora_r": 8, "lora_alpha": 16, "gate_rank": 8, "num_epochs": 1, "batch_size": 16, "learning_rate": 1e-3,
 "max_input_length": 128, "max_output_length": 64, "gate_probe_examples": 0, "output_dir": "$work/$1"}
JSON
}
config one
config two
calc() { awk "BEGIN { print $1 }"; }
seconds() { local t0=$(date +%s.%N); "$@" > "$work/log" 2>&1; calc "$(date +%s.%N) - $t0"; }
tokens_per_second() { tr '\r' '\n' < "$work/log" | grep -o '[0-9]* tok/s' | tail -1 | cut -d' ' -f1; }
t1=$(OMP_NUM_THREADS=2 seconds "$bin/imsm" train --config "$work/one.json")
r1=$(tokens_per_second)
params=$(grep -o '[0-9]* trainable parameters' "$work/log" | cut -d' ' -f1)
t2=$(OMP_NUM_THREADS=1 seconds "$torchrun" --standalone --nproc-per-node 2 --no-python "$bin/imsm" train --config "$work/two.json")
r2=$(tokens_per_second)
printf "1 process x 2 threads:   %6.0f tokens/s training, %6.2f s wall\n" "$r1" "$t1"
printf "2 processes x 1 thread:  %6.0f tokens/s training, %6.2f s wall (torchrun and the rendezvous included)\n" "$r2" "$t2"
printf "ratio 2 processes / 1:   %.2f (tokens/s), %.2f (wall)\n" "$(calc "$r2 / $r1")" "$(calc "$t1 / $t2")"
printf "all-reduced per optimizer step and rank: %d trainable parameters x 4 bytes + 24 = %d bytes\n" "$params" "$((params * 4 + 24))"
