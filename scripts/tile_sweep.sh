#!/usr/bin/env bash
# The tensor-core forward's TMA tiles against split-K counts on a few layers (a diagnostic for the
# under-a-wave rows: docs/perf_notes.md, next steps after v17). For each layer, each forced tile
# (LAMINA_TC_TILE; "plan" = the rule's own) and each split count (LAMINA_TC_TMA_SPLITS; 0 = planned),
# one lamina-bench run without a peer; prints "layer tile splits=S: algorithm ms".
#
# usage: scripts/tile_sweep.sh [--config fp16_nhwc] [--batch 8] [--budget S] [--bench PATH] LAYER...
#   default layers: resnet50.res4_3x3 alexnet.conv3 vgg16.conv5_2; --budget: stop starting runs after
#   S seconds (default 200); --bench: a built lamina-bench (default build-gpu/bench/lamina-bench, built
#   there first if missing).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
config=fp16_nhwc batch=8 budget=200 bench=build-gpu/bench/lamina-bench layers=()
while [ $# -gt 0 ]; do
  case "$1" in
  --config) config="$2"; shift ;;
  --batch) batch="$2"; shift ;;
  --budget) budget="$2"; shift ;;
  --bench) bench="$2"; shift ;;
  -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
  *) layers+=("$1") ;;
  esac
  shift
done
[ ${#layers[@]} -eq 0 ] && layers=(resnet50.res4_3x3 alexnet.conv3 vgg16.conv5_2)
T0=$(date +%s)
if [ ! -x "$bench" ]; then
  export PATH=/usr/local/cuda/bin:$PATH
  gen=""; command -v ninja >/dev/null && gen="-G Ninja"
  cmake -S . -B build-gpu $gen -DCMAKE_BUILD_TYPE=Release -DLAMINA_CUDA=ON -DLAMINA_BENCH_ONEDNN=OFF > build-gpu.log 2>&1
  cmake --build build-gpu -j"$(nproc)" --target lamina-bench >> build-gpu.log 2>&1 || { tail -40 build-gpu.log; exit 1; }
  echo "[$(( $(date +%s) - T0 ))s] built"
fi
L=../shared/bench/conv_layers.csv; [ -f $L ] || L=bench/conv_layers.csv
for layer in "${layers[@]}"; do
  for tile in plan TMA64 TMAM64 TMAM; do
    for s in 0 1 2 4 8; do
      [ $(( $(date +%s) - T0 )) -gt "$budget" ] && exit 0
      env=(); [ $tile != plan ] && env+=(LAMINA_TC_TILE=$tile); [ $s != 0 ] && env+=(LAMINA_TC_TMA_SPLITS=$s)
      ms=$(env "${env[@]}" timeout 20 "$bench" --backend cuda --config "$config" --layers $L --only "$layer" \
        --batch "$batch" --dirs fwd --peer none --iters 15 --max-seconds 0.3 2>&1 | grep -E "^$layer +fwd" | head -1 | awk '{print $3, $4}')
      echo "$layer $tile splits=$s: $ms"
    done
  done
done
