#!/usr/bin/env python3
"""Markdown tables of Lamina against cuDNN from lamina-bench --results-csv files (issue 5's format:
layer,config,direction,batch,lamina_ms,cudnn_ms,algorithm). Later files override earlier rows with the
same (layer, config, direction, batch), so a partial re-run can be layered over a full one.

usage: scripts/perf_table.py [--title T] [--note LINE]... FILE [FILE...] > docs/conv_table.md
"""
import argparse
import csv
import math
import sys
from collections import OrderedDict, defaultdict

CONFIGS = ["fp32", "tf32", "fp16_nhwc", "bf16_nhwc"]
DIRS = ["fwd", "bwd_data", "bwd_filter"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", default="Convolutions against cuDNN, per layer")
    ap.add_argument("--note", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rows = OrderedDict()
    source = {}
    for fn in a.files:
        for r in csv.DictReader(open(fn)):
            key = (r["layer"], r["config"], r["direction"], int(r["batch"]))
            rows[key] = r
            source[(r["config"], r["direction"], int(r["batch"]))] = fn
    if not rows:
        sys.exit("perf_table: no rows")
    ratio = {k: float(r["cudnn_ms"]) / float(r["lamina_ms"]) for k, r in rows.items()
             if r["lamina_ms"] and r["cudnn_ms"] and float(r["lamina_ms"]) > 0}
    layers = list(OrderedDict((k[0], 1) for k in rows))
    out = [f"# {a.title}", ""]
    out += a.note + ([""] if a.note else [])
    out += ["Ratio = cuDNN time / Lamina time (above 1: Lamina faster); Lamina runs its PREFER_FASTEST",
            "pick (nothing measured); cuDNN its fastest measured engine (legacy and graph APIs). Times in ms.", ""]
    out += ["## Geometric means", "", "| config | direction | batch | layers | geomean | worst layer |",
            "|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for k, v in ratio.items():
        groups[(k[1], k[2], k[3])].append((v, k[0]))
    order = lambda g: (CONFIGS.index(g[0]) if g[0] in CONFIGS else 9, g[2] != 64, g[2],
                       DIRS.index(g[1]) if g[1] in DIRS else 9)
    for g in sorted(groups, key=order):
        v = groups[g]
        gm = math.exp(sum(math.log(x) for x, _ in v) / len(v))
        w = min(v)
        out.append(f"| {g[0]} | {g[1]} | {g[2]} | {len(v)} | {gm:.2f} | {w[1]} {w[0]:.2f} |")
    out.append("")
    for batch in sorted({k[3] for k in rows}, key=lambda b: (b != 64, b)):
        out += [f"## Batch {batch}", ""]
        present = [(c, d) for c in CONFIGS for d in DIRS if any((l, c, d, batch) in rows for l in layers)]
        for c, d in present:
            out += [f"### {c} {d} (batch {batch})", "", "| layer | Lamina ms | cuDNN ms | ratio | Lamina algorithm |",
                    "|---|---|---|---|---|"]
            for l in layers:
                r = rows.get((l, c, d, batch))
                if not r:
                    continue
                x = ratio.get((l, c, d, batch))
                out.append(f"| {l} | {float(r['lamina_ms']):.4g} | {float(r['cudnn_ms']):.4g} | "
                           f"{x:.2f} | {r['algorithm']} |" if x else f"| {l} | {r['lamina_ms']} | {r['cudnn_ms']} | - | {r['algorithm']} |")
            out.append("")
    out += ["## Sources", ""]
    for g in sorted(source, key=order):
        out.append(f"- {g[0]} {g[1]} batch {g[2]}: `{source[g]}`")
    print("\n".join(out))


if __name__ == "__main__":
    main()
