#!/usr/bin/env bash
# Where one kernel's warps stall (GPU machine): ncu's warp-state summary, then the SASS lines with the
# most stall samples (source-level sampling) and their top reasons.
# usage: scripts/ncu_stalls.sh KERNEL_REGEX [TOP] -- PROGRAM ARGS...
#   e.g. scripts/ncu_stalls.sh convTmaKernel 25 -- build-gpu/bench/lamina-sandbox-conv-fwd fp16 vgg16.conv3_2 v8
set -uo pipefail
regex=$1 top=25
shift
[ "${1:-}" != "--" ] && top=$1 && shift
[ "${1:-}" = "--" ] && shift
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
tmp=$(mktemp -d)
"$NCU" --kernel-name "regex:$regex" --launch-count 1 --section SpeedOfLight --section WarpStateStats "$@" 2>&1 |
  grep -E "Duration|Throughput|Stall|Warp Cycles|Issued|Active" | head -30
"$NCU" --kernel-name "regex:$regex" --launch-count 1 --section SourceCounters --section WarpStateStats \
  --page source --print-source sass --csv "$@" >"$tmp/src.csv" 2>/dev/null
python3 - "$tmp/src.csv" "$top" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1], errors="replace"))]
hdr = next((i for i, r in enumerate(rows) if "Source" in r and any("Sampling" in c for c in r)), None)
if hdr is None:
    print("ncu_stalls: no source table"); sys.exit(0)
h = rows[hdr]
src = h.index("Source")
tot = next(i for i, c in enumerate(h) if c.startswith("Warp Stall Sampling (All"))
reasons = [i for i, c in enumerate(h) if c.startswith("stall_") or c.startswith("Stall")]
def num(x):
    try: return float(x.replace(",", ""))
    except: return 0.0
body = [r for r in rows[hdr + 1:] if len(r) == len(h)]
total = sum(num(r[tot]) for r in body) or 1
print(f"total stall samples {total:.0f}")
for r in sorted(body, key=lambda r: -num(r[tot]))[:int(sys.argv[2])]:
    rs = sorted(((num(r[i]), h[i]) for i in reasons), reverse=True)[:3]
    print(f"{100*num(r[tot])/total:5.1f}%  {r[src][:70]:70s} " + ", ".join(f"{n}:{v:.0f}" for v, n in rs if v))
PY
rm -rf "$tmp"
