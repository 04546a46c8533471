#!/usr/bin/env bash
# The GPU checks in one command, on a machine with an NVIDIA GPU: builds the
# engine, the CLI and the tests (no GUI) against that machine's own PyTorch
# 2.x (python3's torch, or $IMSM_PYTHON's), runs the GPU tests (test_cuda),
# the Hugging Face reference tests and the model tests, the decode benchmark
# on CUDA, and the training-memory benchmark (issue 15: a 1B Llama with the
# 128k vocabulary, batch 4 x 1,024, bf16, LoRA and IMSM(LoRA), each memory
# feature off and on), and prints the tables.
#
# It needs python3 with torch (CUDA build), transformers and peft, nvcc,
# CMake and ninja. Where Debian's -dev packages are missing and no registry is
# reachable, it uses installer/gpu-prefix.tar.xz, made beforehand on a Debian 12
# machine by installer/make-gpu-prefix.sh and carried with the source tree.
#
#   bash installer/gpu-check.sh            (about 5-10 minutes on 16 cores)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=build-gpu
python=${IMSM_PYTHON:-$(command -v python3)}
log=$build/gpu-check.log
mkdir -p "$build"
: > "$log"
step() { echo "== $*" | tee -a "$log" >&2; }

gpu=$("$python" -c 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' 2>>"$log")
[ -n "$gpu" ] || { echo "gpu-check: $python's torch sees no CUDA device; run this on a GPU machine" >&2; exit 1; }

cmake_args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIMSM_WITH_GUI=OFF -DIMSM_PYTHON="$python")
command -v ninja >/dev/null 2>&1 && cmake_args+=(-G Ninja)
if [ -f installer/gpu-prefix.tar.xz ] && ! pkg-config --exists libpcre2-8 2>/dev/null; then
  step "unpacking installer/gpu-prefix.tar.xz (the Debian -dev packages this machine lacks)"
  prefix=$here/$build/prefix
  rm -rf "$prefix" && mkdir -p "$prefix" && tar -C "$prefix" -xJf installer/gpu-prefix.tar.xz
  multiarch=$prefix/usr/lib/x86_64-linux-gnu
  export PKG_CONFIG="$prefix/usr/bin/pkgconf" PKG_CONFIG_SYSROOT_DIR="$prefix"
  export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$prefix/usr/share/pkgconfig"
  export LD_LIBRARY_PATH="$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix/usr" -DPKG_CONFIG_EXECUTABLE="$PKG_CONFIG")
fi

start=$(date +%s)
step "configure"
cmake "${cmake_args[@]}" >>"$log" 2>&1 || { tail -30 "$log"; echo "gpu-check: configure failed (log: $log)" >&2; exit 1; }
step "build (engine, CLI, tests)"
cmake --build "$build" -j"$(nproc)" --target imsm test_model test_peft_imsm test_reference test_base test_tokenizer_parity write_trained_tokenizer bench_decode bench_train >>"$log" 2>&1 \
  || { tail -30 "$log"; echo "gpu-check: build failed (log: $log)" >&2; exit 1; }
built=$(( $(date +%s) - start ))

step "tests: CUDA, Hugging Face references, model"
ctest --test-dir "$build" -R 'Cuda\.|Reference|reference|HfReference|Forward|Generate|NvmlSampler' -j4 --output-on-failure >"$build/ctest.log" 2>&1
tests_rc=$?
summary=$(grep -E "tests passed|tests failed" "$build/ctest.log" | tail -1)
cuda_tests=$(grep -cE "Test +#[0-9]+: Cuda\..*Passed" "$build/ctest.log")
skipped=$(grep -cE "Not Run|Skipped" "$build/ctest.log")

step "benchmarks on CUDA"
bench_f32=$("$build/bin/bench_decode" --device cuda --dtype f32 --prompt 512 --new 128 --new-nocache 16 2>>"$log")
bench_bf16=$("$build/bin/bench_decode" --device cuda --dtype bf16 --prompt 512 --new 128 --new-nocache 16 2>>"$log")
bench_memory=$("$build/bin/bench_train" --shape 1b --device cuda --dtype bf16 --batch 4 --seq 1024 --steps 3 2>>"$log")
pick() { echo "$1" | grep -F "$2" | head -1 | awk -F'|' '{print $3}' | xargs; }

env_json=$("$build/bin/imsm" env --json 2>>"$log")
echo
echo "| what | value |"
echo "|---|---|"
echo "| GPU | $gpu |"
echo "| engine | $(echo "$env_json" | "$python" -c 'import json,sys; e=json.load(sys.stdin); print("LibTorch %s, CUDA %s, cuDNN %s, %d device(s)" % (e["libtorch"], e["cuda_version"], e["cudnn_version"], e["cuda_devices"]))') |"
echo "| NVML (the resource monitor's reading) | $(echo "$env_json" | "$python" -c 'import json,sys; e=json.load(sys.stdin); print(e.get("nvml_problem") or "; ".join("GPU %d %s: %.0f%% busy, %.1f of %.1f GiB, %.0f C, %.0f W" % (g["index"], g["name"], g["utilization_percent"], g["memory_used_bytes"]/2**30, g["memory_total_bytes"]/2**30, g["temperature_c"], g["power_w"]) for g in e["nvml"]))') |"
echo "| build (configure + engine, CLI, tests) | ${built} s |"
echo "| tests | ${summary:-none ran} (CUDA tests passed: $cuda_tests; skipped: $skipped) |"
for label in f32 bf16; do
  b=$([ $label = f32 ] && echo "$bench_f32" || echo "$bench_bf16")
  echo "| ~100M Llama $label: matmul 1024³ | $(pick "$b" "1024x1024") |"
  echo "| ~100M Llama $label: prefill 512 tokens | $(pick "$b" "prefill") |"
  echo "| ~100M Llama $label: decode, KV cache | $(pick "$b" "decode with KV cache") |"
  echo "| ~100M Llama $label: decode, no cache | $(pick "$b" "decode without cache") |"
done
echo
echo "Training memory and step time on CUDA (bench_train --shape 1b --device cuda --dtype bf16 --batch 4 --seq 1024):"
echo "$bench_memory"
echo
[ $tests_rc -eq 0 ] || { echo "gpu-check: some tests failed: $build/ctest.log" >&2; exit 1; }
