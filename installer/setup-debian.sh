#!/usr/bin/env bash
# Installs what IMSM Workbench needs on Debian 12 and is not there yet:
# the Debian packages of the build and the tests, and the npm test fixtures
# (tests/tokenizer, versions pinned by its package-lock.json).
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake pkg-config ccache git
  libtorch-dev libopenblas0-pthread          # LibTorch 1.13 (CPU); OpenBLAS instead of the ~15x slower reference BLAS
  nlohmann-json3-dev libpcre2-dev libicu-dev # JSON, Unicode regexes and normalisation for tokenizers
  libsentencepiece-dev sentencepiece         # tokenizer.model support; spm_train/spm_encode for its test
  libcli11-dev googletest libgtest-dev libsqlite3-dev
  wordnet-base libxml2-utils                 # WordNet: the bundled model's knowledge; xmllint checks reports
  qt6-base-dev qt6-svg-dev libqcustomplot-dev  # the workbench (Qt 6 Widgets, SVG export, QCustomPlot)
  xvfb xauth imagemagick fonts-dejavu-core   # its end-to-end test and screenshots under a virtual X server
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenBLAS must be the BLAS LibTorch resolves (the engine warns otherwise).
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: warning: libblas.so.3 resolves to ${blas:-nothing}, not OpenBLAS; run: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac

fixtures="$here/tests/tokenizer"
if [ ! -f "$fixtures/node_modules/.package-lock.json" ] || ! cmp -s "$fixtures/package-lock.json" "$fixtures/node_modules/.imsm-lock"; then
  echo "setup: installing the npm test fixtures (tests/tokenizer)" >&2
  (cd "$fixtures" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$fixtures/package-lock.json" "$fixtures/node_modules/.imsm-lock"
fi
