#!/usr/bin/env bash
# The TMA convolution kernel's phases per work item (docs/perf_notes.md v21): a diagnostics build with
# -DLAMINA_TC_TRACE (build-trace/, lamina-bench only; the kernel writes each item's block start, SM and
# cycles to its first slice, through the loop and the epilogue to a device array, printed per launch),
# then lamina-bench on a few layers and batches, fp16 NHWC forward, summarised per launch shape: start
# skew and each phase (min / median / max, us at 1.83 GHz), the loop's time per slice.
#
# usage: scripts/tma_trace.sh [--config fp16_nhwc] [--batches "1 8 64"] [LAYER...]
#   default layers: vgg16.conv3_2 resnet50.res3_3x3 alexnet.conv3 resnet50.res2_3x3
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
config=fp16_nhwc batches="1 8 64" layers=()
while [ $# -gt 0 ]; do
  case "$1" in
  --config) config="$2"; shift ;;
  --batches) batches="$2"; shift ;;
  -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
  *) layers+=("$1") ;;
  esac
  shift
done
[ ${#layers[@]} -eq 0 ] && layers=(vgg16.conv3_2 resnet50.res3_3x3 alexnet.conv3 resnet50.res2_3x3)
export PATH=/usr/local/cuda/bin:$PATH
gen=""; command -v ninja >/dev/null && gen="-G Ninja"
cmake -S . -B build-trace $gen -DCMAKE_BUILD_TYPE=Release -DLAMINA_CUDA=ON -DLAMINA_BENCH_ONEDNN=OFF \
  -DCMAKE_CUDA_FLAGS=-DLAMINA_TC_TRACE > /tmp/lamina-build-trace.log 2>&1
cmake --build build-trace -j"$(nproc)" --target lamina-bench >> /tmp/lamina-build-trace.log 2>&1 || { tail -40 /tmp/lamina-build-trace.log; exit 1; }
L=../shared/bench/conv_layers.csv; [ -f $L ] || L=bench/conv_layers.csv
summarise() {
  python3 -c '
import sys, statistics as st
launches, cur = [], None
for line in sys.stdin:
    if not line.startswith("TMATRACE"): continue
    f = line.split(); d = {f[i]: int(f[i + 1]) for i in range(1, len(f) - 1, 2)}
    if d["item"] == 0:
        cur = []; launches.append(cur)
    if cur is not None: cur.append(d)
shapes = {}
for l in launches:
    shapes.setdefault((l[0]["blocks"], len(l), l[0]["slices"], l[0]["splits"]), []).append(l)
ghz = 1.83e3
for key, ls in shapes.items():
    l = ls[-1]
    def q(k):
        v = sorted(r[k] for r in l)
        return "%.2f/%.2f/%.2f" % (v[0] / ghz, v[len(v) // 2] / ghz, v[-1] / ghz)
    s = sorted(r["start_ns"] for r in l)
    print("  blocks %d items %d slices %d splits %d (%d launches): start skew %.2f/%.2f us | to_item %s | first %s | loop %s | epi %s | per slice %.3f us"
          % (key + (len(ls), s[len(s) // 2] / 1e3, s[-1] / 1e3, q("to_item"), q("first"), q("loop"), q("epi"),
             st.median(r["loop"] / max(1, r["slices"]) for r in l) / ghz)))
'
}
for layer in "${layers[@]}"; do
  for n in $batches; do
    echo "== $layer $config batch $n"
    timeout 60 build-trace/bench/lamina-bench --backend cuda --config "$config" --layers $L --only "$layer" --batch "$n" \
      --infer-batches none --dirs fwd --peer none --iters 2 --max-seconds 0.01 --skip-slow 1.01 2>&1 | summarise
  done
done
