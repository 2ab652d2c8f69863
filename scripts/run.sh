#!/usr/bin/env bash
# Main job: installs the dependencies, builds Lamina (Release), fetches MNIST and trains the example
# network for one epoch on the best backend (CUDA when a GPU is present, else the CPU), printing the
# training loss and the test accuracy. Extra arguments go to mnist_train (e.g. --epochs 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target mnist_train
scripts/fetch_mnist.sh
exec build/examples/mnist_train --data data/mnist --epochs 1 "$@"
