#!/usr/bin/env bash
# Main job: installs the dependencies, builds Lamina (Release), fetches MNIST, converts it to LMDB and
# trains Caffe's LeNet (lenet_solver.prototxt + lenet_train_test.prototxt from ../shared/caffe-models,
# 10,000 iterations) on the best device (CUDA when a GPU is present, else the CPU), printing the loss,
# the test accuracy as it goes and the final test accuracy. Extra arguments go to `lamina train`
# (e.g. --max-iter 1000, --device cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target lamina-cli
scripts/fetch_mnist.sh
models=${LAMINA_CAFFE_MODELS:-../shared/caffe-models}
[ -f "$models/examples/mnist/lenet_solver.prototxt" ] ||
  { echo "run.sh: Caffe's example nets not found in $models (set LAMINA_CAFFE_MODELS)" >&2; exit 1; }
mkdir -p data/caffe/examples/mnist
[ -d data/caffe/examples/mnist/mnist_train_lmdb ] ||
  build/engine/lamina data mnist data/mnist data/caffe/examples/mnist
# The device: the solver file's solver_mode (GPU in Caffe's file), which falls back to the CPU when no
# usable GPU is present; --device cpu|cuda[:N] overrides it.
exec build/engine/lamina train --solver "$models/examples/mnist/lenet_solver.prototxt" --root "$models" \
  --data-root data/caffe "$@"
