#!/usr/bin/env bash
# The CUDA tiled DIRECT forward against its launch shape (GPU machine): for each channel block
# (LAMINA_CUDA_DIRECT_KB) and pixels a thread (LAMINA_CUDA_DIRECT_PX), one lamina-bench run without a
# peer over bench/direct_layers.csv (fp32 and fp16 NHWC, batch 64, 1 and 8), then one table of the
# DIRECT times: what tiledMs in src/cuda/conv_direct.cu is fitted to (perf_notes v19, v20).
# usage: scripts/direct_sweep.sh [--bench PATH] [--out DIR]   (default build-gpu/bench/lamina-bench and
#   $OUT or .; relative paths are from the repository root). Writes DIR/direct_sweep.txt. A forced block
#   that does not fit the 48 KiB of shared memory runs the simple kernel (its cell is that kernel's time),
#   two pixels that do not fit run one.
set -uo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 2
bench=build-gpu/bench/lamina-bench out=${OUT:-.}
while [ $# -gt 0 ]; do
  case "$1" in
  --bench | --out)
    [ $# -ge 2 ] || { echo "direct_sweep: $1 needs a value" >&2; exit 2; }
    if [ "$1" = --bench ]; then bench="$2"; else out="$2"; fi
    shift ;;
  -h | --help) sed -n '2,9p' "$self"; exit 0 ;;
  *) echo "direct_sweep: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$bench" ] || { echo "direct_sweep: no $bench (build it first)" >&2; exit 2; }
mkdir -p "$out" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for px in 1 2; do
  for kb in 4 8 16 32; do
    LAMINA_CUDA_DIRECT=tiled LAMINA_CUDA_DIRECT_KB=$kb LAMINA_CUDA_DIRECT_PX=$px timeout 60 "$bench" --backend cuda \
      --layers bench/direct_layers.csv --config fp32,fp16_nhwc --batch 64 --infer-batches 1,8 --dirs fwd --peer none \
      --iters 5 --max-seconds 0.3 --skip-slow 3 --csv "$tmp/px${px}kb$kb.csv" >/dev/null 2>&1 ||
      echo "direct_sweep: px $px kb $kb failed" >&2
  done
done
python3 - "$tmp" <<'PY' | tee "$out/direct_sweep.txt"
import csv, os, sys
d = {}
for px in (1, 2):
    for kb in (4, 8, 16, 32):
        f = f"{sys.argv[1]}/px{px}kb{kb}.csv"
        if not os.path.exists(f):
            continue
        for r in csv.DictReader(open(f)):
            if r["algorithm"] == "direct":
                est = "e" if "not run" in r["note"] else ""
                d.setdefault((r["layer"], r["config"], r["batch"]), {})[(px, kb)] = r["lamina_ms"] + est
print("layer config batch | px1: kb4 kb8 kb16 kb32 | px2: kb4 kb8 kb16 kb32")
for k, v in sorted(d.items(), key=lambda kv: (kv[0][0], kv[0][1], int(kv[0][2]))):
    cells = [[v.get((px, kb), "-") for kb in (4, 8, 16, 32)] for px in (1, 2)]
    print(*k, "|", *cells[0], "|", *cells[1])
PY
