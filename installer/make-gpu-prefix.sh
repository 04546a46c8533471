#!/usr/bin/env bash
# Prepares, on a Debian 12 machine with its package registry, what the engine's
# build needs on a GPU machine that has PyTorch 2.x with CUDA, nvcc, CMake and
# ninja but no registry and none of Debian's -dev packages: the headers,
# libraries and CMake/pkg-config files of nlohmann-json, PCRE2, ICU, SQLite,
# SentencePiece, CLI11, GoogleTest and pkgconf, unpacked from Debian's packages
# and packed as installer/gpu-prefix.tar.xz (ignored by git; it travels with
# the source tree to that machine). Static archives of ICU, documentation and
# manual pages are left out to keep it small.
#
#   bash installer/make-gpu-prefix.sh      then carry installer/gpu-prefix.tar.xz
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/installer/gpu-prefix.tar.xz"
packages=(nlohmann-json3-dev libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
          libicu-dev libicu72 icu-devtools libsqlite3-dev libsqlite3-0 libsentencepiece-dev libsentencepiece0
          libprotobuf-lite32 libcli11-dev libgtest-dev libgmock-dev pkgconf pkgconf-bin libpkgconf3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}" >/dev/null)
mkdir -p "$work/prefix"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/prefix"; done
rm -rf "$work/prefix/usr/share/doc" "$work/prefix/usr/share/man" "$work/prefix/usr/share/lintian"
find "$work/prefix" -name 'libicu*.a' -delete
tar -C "$work/prefix" -cJf "$out.tmp" .
mv "$out.tmp" "$out"
echo "make-gpu-prefix: wrote $out ($(du -h "$out" | cut -f1))"
