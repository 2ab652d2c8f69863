#!/usr/bin/env bash
# Runs prebuilt Lamina binaries on the GPU machine without building there (the build takes ~60 s of
# the device budget; a library built elsewhere for sm_90a with LAMINA_NATIVE=OFF runs there as is).
# The tarball holds one folder per variant, each with liblamina.so.0 and any of
# lamina-sandbox-conv-fwd, lamina-bench, test_conv_fwd, test_conv_bwd_data, test_conv_bwd_filter.
# Each variant runs: its conformance tests (CUDA backend; gtest filter AB_GTEST_FILTER, default
# *TensorCorePath*) under each named tile ('none': no forced tile), its sandbox versions in fp16 and
# bf16, and its bench once per tile (config AB_BENCH_CONFIG, default fp16_nhwc; no peer: the
# variants' own timings, for choosing among them).
# usage: scripts/ab_carry.sh TARBALL "VARIANT|TEST_TILES|SANDBOX_VERSIONS|BENCH_TILES ..." [BENCH_ARGS]
#   lists comma-separated, '-' for none; e.g.
#   scripts/ab_carry.sh .gpucarry/ab.tgz "tiles|TMA,TMAK|v8,v9|TMAW,TMAK" "--dirs fwd"
set -uo pipefail
tarball=$1 specs=$2 bargs=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
tar xzf "$tarball" -C "$work" || exit 2
list() { [ "$1" = - ] && return; echo "${1//,/ }"; }
# e.g. AB_GTEST_FILTER='*' AB_BENCH_CONFIG=fp32 scripts/ab_carry.sh .gpucarry/next.tgz "cuda-winograd|none|-|rule"
for spec in $specs; do
  IFS='|' read -r name tiles vers btiles <<<"$spec"
  d=$(ls -d "$work"/*/"$name" "$work/$name" 2>/dev/null | head -1)
  export LD_LIBRARY_PATH=$d:/usr/local/cuda/lib64
  echo "=== $name"
  for t in $(list "$tiles"); do
    for prog in test_conv_fwd test_conv_bwd_data test_conv_bwd_filter test_conv_api; do
      [ -x "$d/$prog" ] || continue
      [ $prog = test_conv_bwd_filter ] && [ $t != TMA ] && [ $t != none ] && continue # one backward-filter TMA tile
      tileEnv=(LAMINA_TC_TILE=$t)
      [ $t = none ] && tileEnv=()
      if (cd "$ROOT/tests" && env LAMINA_TEST_BACKEND=cuda "${tileEnv[@]}" timeout 300 "$d/$prog" \
        --gtest_filter="${AB_GTEST_FILTER:-*TensorCorePath*}" >"$work/$name-$prog-$t.log" 2>&1); then
        echo "$name $prog $t: passed"
      else
        echo "$name $prog $t: FAILED"; grep -v '^\[ *OK\|^\[ RUN' "$work/$name-$prog-$t.log" | tail -15
      fi
    done
  done
  for dt in fp16 bf16; do
    for v in $(list "$vers"); do
      timeout 120 "$d/lamina-sandbox-conv-fwd" $dt all $v | grep -v '^layer' | sed "s/^/$name /"
    done
  done
  for t in $(list "$btiles"); do
    if [ "$t" = rule ]; then unset LAMINA_TC_TILE; else export LAMINA_TC_TILE=$t; fi
    echo "--- bench $name tile=$t"
    timeout 300 "$d/lamina-bench" --backend cuda --config "${AB_BENCH_CONFIG:-fp16_nhwc}" --peer none \
      --infer-batches none --layers "$ROOT/bench/conv_layers.csv" --csv "$work/b.csv" $bargs >"$work/b.log" 2>&1 || tail -5 "$work/b.log"
    # layer, direction, the TC algorithm's time and the pick
    python3 - "$work/b.csv" "$t" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r['algorithm'] == 'implicit' or r['picked'] == '1':
        print(f"{sys.argv[2]:7s} {r['layer']:22s} {r['direction']:9s} {r['algorithm']:16s} {r['picked']} {r['lamina_ms']:>9s} {r['lamina_tflops']:>8s}")
PY
  done
  unset LAMINA_TC_TILE
done
rm -rf "$work"
