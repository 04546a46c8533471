#!/usr/bin/env bash
# Installs what IMSM Workbench needs on Debian 12 and is not there yet:
# the Debian packages of the build and the tests, then the Python virtual
# environment with LibTorch 2.x (the torch wheel) and the reference libraries
# (installer/setup-venv.sh; cached per user, shared by clones), llama.cpp's
# ggml and tools (installer/setup-llama-cpp.sh) and the SmolLM2 GGUF
# (installer/setup-models.sh), cached the same way.
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake pkg-config ccache git
  python3 python3-venv                       # the venv with the torch wheel (LibTorch 2.x) and the test references
  nlohmann-json3-dev libpcre2-dev libicu-dev # JSON, Unicode regexes and normalisation for tokenizers
  libsentencepiece-dev sentencepiece         # tokenizer.model support; spm_train/spm_encode for its test
  libcli11-dev googletest libgtest-dev libsqlite3-dev
  libgloo-dev                                # gloo's headers: c10d's Gloo backend (several processes on the CPU)
  wordnet-base libxml2-utils                 # WordNet: the bundled model's knowledge; xmllint checks reports
  qt6-base-dev qt6-svg-dev libqcustomplot-dev  # the workbench (Qt 6 Widgets, SVG export, QCustomPlot)
  libqt6opengl6-dev libimgui-dev libstb-dev  # its gate scope: Dear ImGui 1.86 (OpenGL3 backend) in a QOpenGLWidget
  xvfb xauth imagemagick fonts-dejavu-core   # its end-to-end test and screenshots under a virtual X server
)

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

# The CUDA toolkit compiles the engine's CUDA path (no GPU needed); the torch
# wheel's CMake package requires it at configure time.
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: no CUDA toolkit (nvcc) found; install NVIDIA's CUDA toolkit 12.x or 13.x (it provides /usr/local/cuda), then run this again" >&2
  exit 1
fi

bash "$here/installer/setup-venv.sh"
IMSM_PYTHON="$here/.venv/bin/python" bash "$here/installer/setup-llama-cpp.sh"
IMSM_PYTHON="$here/.venv/bin/python" bash "$here/installer/setup-models.sh"
