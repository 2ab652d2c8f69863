#!/usr/bin/env bash
# The one-call check on the GPU machine: Release build (build-gpu/), the GPU tests (ctest -L gpu),
# compute-sanitizer memcheck and racecheck passes over a short problem list, and lamina-bench on the
# CUDA backend against cuDNN in four configs (issue 5's run: batch 64 every direction, batch 1 and 8
# forward, the cuBLAS ceilings). Logs, CSVs and the summary go to $OUT when set (the device tool
# brings that folder back, 8 files at most), else build-gpu/gpu_check/. The summary table is printed
# last. Nothing is installed: it uses what the machine has (CUDA at /usr/local/cuda, cmake, g++,
# OpenBLAS, GTest, cuDNN; no oneDNN, so the bench has no CPU peer there).
#
# usage: scripts/gpu_check.sh [--quick] [--no-tests] [--no-sanitizer] [--no-bench] [--bench-only]
#                             [--tests-only REGEX] [--bench-args "ARGS"] [--configs LIST] [--jobs N]
#                             [--budget S] [--engine] [--engine-only] [--engine-iters N] [--sandbox]
#                             [--prebuilt DIR]
#   --sandbox          also run the kernel sandboxes (bench/sandbox/: forward fp16 and bf16, the fp32
#                      backward-filter of thin layers) into sandbox.txt
#   --quick            shorter everything (fits in 10 minutes with a warm or fast build)
#   --bench-only       build lamina-bench only, then the bench (no tests, no sanitizer)
#   --prebuilt DIR     the bench only, with DIR's lamina-bench and liblamina.so.0 (built elsewhere), no build
#   --tests-only REGEX build, then only the GPU tests matching REGEX (no sanitizer, no bench)
#   --bench-args ARGS  extra lamina-bench arguments, after the script's (e.g. "--only resnet50")
#   --configs LIST     bench configs (default fp32,tf32,fp16_nhwc,bf16_nhwc)
#   --budget S         the whole script's wall-time limit (default 590: the device's 10-minute call);
#                      the bench's deadline and timeout come from what is left of it; 0 = fixed ones
# SAN_MEMCHECK / SAN_RACECHECK: the programs of each sanitizer pass; PROGRAM:TILE runs with LAMINA_TC_TILE=TILE.
# Outputs: summary.txt (machine, summary), build.log, ctest.log, sanitizer.log, bench_cuda.txt (the
# bench's log, its summary last), bench_cuda.csv (every algorithm), bench_results.csv (the issue's
# layer,config,direction,batch,lamina_ms,cudnn_ms,algorithm), engine.txt (--engine).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

quick=0 run_tests=1 run_san=1 run_bench=1 run_engine=0 run_sandbox=0 engine_iters=10000 tests_regex="" bench_args="" configs="fp32,tf32,fp16_nhwc,bf16_nhwc"
budget=590 targets=() prebuilt=
jobs=$(nproc 2>/dev/null || echo 16)
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) quick=1 ;;
  --no-tests) run_tests=0 ;;
  --no-sanitizer) run_san=0 ;;
  --no-bench) run_bench=0 ;;
  --bench-only) run_tests=0; run_san=0; run_engine=0; targets=(--target lamina-bench) ;;
  --prebuilt)
    [ -x "$2/lamina-bench" ] || { echo "gpu_check: --prebuilt $2: no lamina-bench there" >&2; exit 2; }
    prebuilt=$(cd "$2" && pwd); run_tests=0; run_san=0; run_engine=0; run_sandbox=0; shift ;;
  --budget) budget="$2"; shift ;;
  --engine) run_engine=1 ;;
  --engine-only) run_engine=1; run_tests=0; run_san=0; run_bench=0 ;;
  --sandbox) run_sandbox=1 ;;
  --engine-iters) engine_iters="$2"; shift ;;
  --tests-only) tests_regex="$2"; run_san=0; run_bench=0; shift ;;
  --bench-args) bench_args="$2"; shift ;;
  --configs) configs="$2"; shift ;;
  --jobs) jobs="$2"; shift ;;
  -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
  *) echo "gpu_check: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

BUILD=$ROOT/build-gpu
OUTDIR=${OUT:-$BUILD/gpu_check}
mkdir -p "$OUTDIR"
export PATH=/usr/local/cuda/bin:$PATH
T0=$(date +%s)
elapsed() { echo $(($(date +%s) - T0)); }
log() { echo "[gpu_check $(elapsed)s] $*"; }

# Summary rows, printed at the end.
declare -a SUMMARY=()
add() { SUMMARY+=("$(printf '%-11s %s' "$1" "$2")"); }

# Per-program logs stay in the build tree: the device tool brings back at most 8 files from $OUT.
TMPLOG=$BUILD/gpu_check_logs
mkdir -p "$TMPLOG"

# ---------------------------------------------------------------- machine (into summary.txt)
MACHINE=$({
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "no nvidia-smi"
  nvcc --version 2>&1 | tail -1
  echo "cores: $(nproc)"
} 2>&1)
log "machine: $(echo "$MACHINE" | sed -n 3p)"

# ---------------------------------------------------------------- build
log "configure + build (Release, $BUILD, -j$jobs)"
gen=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
tb=$(date +%s)
build_ok=0
BENCH_BIN=$BUILD/bench/lamina-bench
# The GPU machine has no LMDB: a carried copy of Debian's lmdb.h and liblmdb.a in .gpucarry/ (see
# docs/engine.md) lets the training engine build there.
extra=()
[ -f "$ROOT/.gpucarry/lmdb.h" ] && extra+=(-DLMDB_INCLUDE_DIR="$ROOT/.gpucarry" -DLMDB_LIBRARY="$ROOT/.gpucarry/liblmdb.a")
if [ -n "$prebuilt" ]; then
  # lamina-bench and liblamina.so.0 built elsewhere (sm_90a, LAMINA_NATIVE=OFF, LAMINA_BENCH_ONEDNN=OFF):
  # no build here, which saves ~50 s of the device budget.
  build_ok=1 BENCH_BIN=$prebuilt/lamina-bench
  export LD_LIBRARY_PATH="$prebuilt:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  add build "prebuilt ($prebuilt)"
  : >"$OUTDIR/build.log"
elif cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DLAMINA_CUDA=ON "${extra[@]}" >"$OUTDIR/build.log" 2>&1 &&
  cmake --build "$BUILD" -j "$jobs" "${targets[@]}" >>"$OUTDIR/build.log" 2>&1; then
  build_ok=1
  add build "ok ($(($(date +%s) - tb)) s)"
else
  add build "FAILED (see build.log; last lines below)"
  tail -30 "$OUTDIR/build.log"
fi
grep -E "lamina-bench:|Lamina: CUDA" "$OUTDIR/build.log" | sed 's/^/  /'

# cuDNN 9 loads its sub-libraries (libcudnn_cnn, engines...) at run time from the loader's path.
cudnn_lib=$(sed -n 's/^CUDNN_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
if [ -n "$cudnn_lib" ]; then
  cudnn_dir=$(dirname "$cudnn_lib")
  export LD_LIBRARY_PATH="$cudnn_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# ---------------------------------------------------------------- GPU tests
if [ $build_ok = 1 ] && [ $run_tests = 1 ]; then
  per_test=$([ $quick = 1 ] && echo 180 || echo 600)
  sel=(-L gpu)
  [ -n "$tests_regex" ] && sel+=(-R "$tests_regex")
  log "ctest ${sel[*]} (timeout ${per_test}s per test)"
  (cd "$BUILD" && ctest "${sel[@]}" --output-on-failure --timeout "$per_test" -j 4) >"$OUTDIR/ctest.log" 2>&1
  line=$(grep -E "tests passed(, [0-9]+ tests failed)? out of" "$OUTDIR/ctest.log" | tail -1)
  skipped=$(sed -n '/The following tests did not run/,/^$/p' "$OUTDIR/ctest.log" | grep -c "Skipped")
  failed=$(sed -n '/The following tests FAILED/,/^$/p' "$OUTDIR/ctest.log" | grep -oE "[a-z0-9_]+_cuda" | tr '\n' ' ')
  add tests "${line:-no ctest result (see ctest.log)}; skipped $skipped${failed:+; FAILED: $failed}"
  grep -E "^ *[0-9]+/[0-9]+ Test" "$OUTDIR/ctest.log" | sed 's/^/  /'
fi

# ---------------------------------------------------------------- compute-sanitizer
find_sanitizer() {
  for c in compute-sanitizer /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return; fi
  done
}
# run_sanitizer TOOL BUDGET_S PROGRAM...: each program on the first LAMINA_TEST_MAX_PROBLEMS rows of
# its problem lists, in tests/ (where ctest runs them), until the budget is spent.
run_sanitizer() {
  local tool=$1 budget=$2
  shift 2
  local san start errors=0 ran=0 bad="" timedout="" notrun=""
  san=$(find_sanitizer)
  if [ -z "$san" ]; then
    add "$tool" "not run: compute-sanitizer not found"
    return
  fi
  start=$(date +%s)
  local tmp=$TMPLOG
  for entry in "$@"; do
    # PROGRAM or PROGRAM:TILE (the run with LAMINA_TC_TILE=TILE, e.g. test_conv_fwd:TMA).
    local prog=${entry%%:*} tile=""
    [ "$entry" != "$prog" ] && tile=${entry#*:}
    local left=$((budget - ($(date +%s) - start)))
    if [ ! -x "$BUILD/tests/$prog" ] || [ $left -le 10 ]; then
      notrun+="$entry "
      continue
    fi
    log "$tool: $entry (${left}s left)"
    echo "=== $tool: $entry" >>"$OUTDIR/sanitizer.log"
    # racecheck is slow: on the convolution programs it covers the tensor-core paths (the kernels with
    # the most shared-memory traffic: cp.async stages, mbarrier pipelines, TMA) in half NHWC only
    # (LAMINA_TEST_DTYPES / LAMINA_TEST_LAYOUTS); the other tests under memcheck only.
    local filter="*" narrow=()
    if [ "$tool" = racecheck ] && [[ $prog == test_conv_* ]]; then
      filter="*TensorCorePath*"
      narrow=(LAMINA_TEST_DTYPES=half LAMINA_TEST_LAYOUTS=nhwc)
    fi
    local log_=$tmp/sanitizer_${tool}_${entry/:/_}.log
    (cd tests && env GTEST_FILTER="$filter" LAMINA_TEST_BACKEND=cuda LAMINA_TEST_MAX_PROBLEMS=${SAN_PROBLEMS:-2} \
      ${tile:+LAMINA_TC_TILE=$tile} "${narrow[@]}" \
      timeout "$left" "$san" --tool "$tool" --error-exitcode 99 --print-limit 30 "$BUILD/tests/$prog") \
      >"$log_" 2>&1
    local rc=$?
    cat "$log_" >>"$OUTDIR/sanitizer.log"
    ran=$((ran + 1))
    local n
    n=$(grep -oE "ERROR SUMMARY: [0-9]+" "$log_" | grep -oE "[0-9]+$" | tail -1)
    [ "$tool" = racecheck ] && n=$(grep -oE "\(([0-9]+) errors?" "$log_" | grep -oE "[0-9]+" | tail -1)
    errors=$((errors + ${n:-0}))
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      timedout+="$entry "
    elif [ $rc = 77 ]; then
      bad+="$entry(skipped: no GPU) "
    elif [ $rc != 0 ]; then
      bad+="$entry(rc=$rc${n:+, $n errors}) "
    fi
  done
  add "$tool" "$errors errors in $ran programs${bad:+; FAILED: $bad}${timedout:+; timed out: $timedout}${notrun:+; not run: $notrun}"
}
if [ $build_ok = 1 ] && [ $run_san = 1 ]; then
  : >"$OUTDIR/sanitizer.log" # memcheck then racecheck, one file
  san_budget=$([ $quick = 1 ] && echo 90 || echo 180)
  # shellcheck disable=SC2086 # lists of program names
  run_sanitizer memcheck "$san_budget" ${SAN_MEMCHECK:-test_cuda_runtime test_conv_fwd test_conv_fwd:TMA test_pooling test_conv_bwd_data test_conv_bwd_data:TMA test_conv_bwd_filter test_conv_bwd_filter:TMA test_tensor_ops test_activation test_softmax}
  # shellcheck disable=SC2086
  run_sanitizer racecheck "$san_budget" ${SAN_RACECHECK:-test_conv_fwd test_conv_fwd:TMA test_conv_bwd_data test_conv_bwd_data:TMA test_conv_bwd_filter test_conv_bwd_filter:TMA test_pooling test_softmax test_reduce test_batchnorm}
fi

# ---------------------------------------------------------------- bench
# The issue-5 run (every direction at batch 64, forward at 1 and 8, algorithms estimated at over 5x the
# pick not run, the cuBLAS ceilings), one lamina-bench process per config: a kernel fault (one cuDNN
# 9.14 graph engine writes misaligned on tf32 NCHW alexnet.conv1 at batch 1) ends its process's CUDA
# context, so it costs the rest of that config only. The merged results CSV is the issue's file
# (bench/results/cuda-h100.csv). The summaries go last in the log and into the summary below.
bench_left=$((budget - $(elapsed)))
if [ $build_ok = 1 ] && [ $run_bench = 1 ] && [ "$budget" -gt 0 ] && [ $bench_left -lt 100 ]; then
  add bench "not run: ${bench_left} s left of the ${budget} s budget (run it alone: --bench-only)"
elif [ $build_ok = 1 ] && [ $run_bench = 1 ]; then
  if [ $quick = 1 ]; then
    args=(--iters 3 --max-seconds 0.5 --only resnet50)
    btotal=240
  else
    args=(--iters 10 --max-seconds 0.5)
    btotal=540
  fi
  [ "$budget" -gt 0 ] && [ $((bench_left - 10)) -lt $btotal ] && btotal=$((bench_left - 10))
  # The peer: the faster of cuDNN's legacy API and its graph API (whose engines the legacy API misses).
  # The layer list by path: a lamina-bench built elsewhere (--prebuilt) has that machine's default.
  layers=$ROOT/bench/conv_layers.csv
  [ -f "$ROOT/../shared/bench/conv_layers.csv" ] && layers=$ROOT/../shared/bench/conv_layers.csv
  args+=(--layers "$layers" --batch 64 --infer-batches "1,8" --skip-slow 5 --ceiling --peer cudnn,cudnn_graph)
  : >"$OUTDIR/bench_cuda.txt"
  rm -f "$OUTDIR/bench_cuda.csv" "$OUTDIR/bench_results.csv"
  # The probe below counts against the bench's share (b0 starts before it).
  b0=$(date +%s) rcs="" summaries=""
  # The cuDNN 9.14 graph engine config(s) that fault on alexnet.conv1 tf32 NCHW at batch 1/8: found by
  # running that layer alone with LAMINA_BENCH_GRAPH_TRACE (the last config named before a fault),
  # then left out through LAMINA_BENCH_GRAPH_SKIP, so the tf32 inference rows can be measured.
  if [[ ",$configs," == *,tf32,* ]] && [ -z "${LAMINA_BENCH_GRAPH_SKIP:-}" ]; then
    skip=""
    for round in 1 2 3 4; do
      LAMINA_BENCH_GRAPH_TRACE=1 LAMINA_BENCH_GRAPH_SKIP="$skip" timeout 60 "$BENCH_BIN" --backend cuda --config tf32 \
        --layers "$layers" --only alexnet.conv1 --batch 1,8 --dirs fwd --infer-batches none --peer cudnn_graph --iters 2 \
        --max-seconds 0.2 >"$TMPLOG/graph_probe.txt" 2>&1 && break
      grep -qiE "kernel fault|context lost" "$TMPLOG/graph_probe.txt" || break
      id=$(grep '^cudnn_graph: ' "$TMPLOG/graph_probe.txt" | tail -1 | sed 's/^cudnn_graph: [^:]*: //')
      [ -n "$id" ] || break
      skip="${skip:+$skip;}$id"
    done
    export LAMINA_BENCH_GRAPH_SKIP="$skip"
    add "" "cuDNN graph configs left out (they fault): ${skip:-none}"
  fi
  for cfg in ${configs//,/ }; do
    # Within the budget, whatever came before: each process is killed 10 s before the bench's share
    # ends and starts no layer in its last 75 s (the last layer, the ceiling and the summary after).
    btimeout=$((btotal - ($(date +%s) - b0)))
    if [ $btimeout -lt 90 ]; then
      rcs+=" $cfg:not-run" && continue
    fi
    log "lamina-bench --backend cuda --config $cfg ${args[*]} $bench_args (timeout ${btimeout}s)"
    # shellcheck disable=SC2086 # bench_args is a list of words
    timeout "$btimeout" "$BENCH_BIN" --backend cuda --config "$cfg" "${args[@]}" \
      --deadline $((btimeout - 75)) --csv "$TMPLOG/bench_$cfg.csv" --results-csv "$TMPLOG/results_$cfg.csv" \
      $bench_args >"$TMPLOG/bench_$cfg.txt" 2>&1
    rc=$?
    rcs+=" $cfg:$rc$([ $rc = 124 ] && echo "(timed out)")"
    cat "$TMPLOG/bench_$cfg.txt" >>"$OUTDIR/bench_cuda.txt"
    for f in bench results; do
      src=$TMPLOG/${f}_$cfg.csv dst=$OUTDIR/$([ $f = bench ] && echo bench_cuda.csv || echo bench_results.csv)
      [ -f "$src" ] || continue
      if [ -f "$dst" ]; then tail -n +2 "$src" >>"$dst"; else cat "$src" >"$dst"; fi
    done
    summaries+=$(grep "^summary:" "$TMPLOG/bench_$cfg.txt" | tail -1 | sed 's/^summary://')
  done
  add bench "rc$rcs;${summaries:- no summary}"
  nres=0
  [ -f "$OUTDIR/bench_results.csv" ] && nres=$(($(wc -l <"$OUTDIR/bench_results.csv") - 1))
  add "" "results: $nres rows in bench_results.csv"
  # Each process's summary block: the ceilings and largest layers, the per config x direction x
  # batch table, the heuristic, first-call and wall-time lines.
  while IFS= read -r l; do add "" "$l"; done < <(grep -E "^ceiling" "$OUTDIR/bench_cuda.txt")
  while IFS= read -r l; do add "" "$l"; done < <(sed -n '/^== largest layers/,/^$/p' "$OUTDIR/bench_cuda.txt" | grep -v '^$')
  while IFS= read -r l; do add "" "$l"; done < <(sed -n '/^== summary/,/^summary:/p' "$OUTDIR/bench_cuda.txt" | grep -v '^summary:')
  grep -E "^[a-z0-9_.]+ +[a-z_]+ +error:|MISMATCH|CUDA context lost" "$OUTDIR/bench_cuda.txt" | head -20 | sed 's/^/  /'
fi

# ---------------------------------------------------------------- kernel sandbox (--sandbox)
if [ $build_ok = 1 ] && [ $run_sandbox = 1 ]; then
  log "kernel sandboxes (bench/sandbox/): forward fp16 and bf16, fp32 backward-filter of thin layers"
  sb="$BUILD/bench/lamina-sandbox-conv-fwd"
  { timeout 120 "$sb"; timeout 120 "$sb" bf16; timeout 120 "$BUILD/bench/lamina-sandbox-conv-bwd-filter"; } \
    >"$OUTDIR/sandbox.txt" 2>&1
  add sandbox "$(grep '^sandbox' "$OUTDIR/sandbox.txt" | tr '\n' ';' | cut -c1-200)"
fi

# ---------------------------------------------------------------- training engine (--engine)
# Caffe's LeNet solver on MNIST on the GPU (test accuracy and wall time), then `lamina time` for LeNet
# (batch 64) and AlexNet train_val (batch 128, random data) and CIFAR-10 quick/full (random data).
# Needs .gpucarry/mnist/*.gz (the idx files, gzipped) and .gpucarry/caffe-models (../shared's copy).
if [ $build_ok = 1 ] && [ $run_engine = 1 ]; then
  L=$BUILD/engine/lamina M=$ROOT/.gpucarry/caffe-models E=$OUTDIR/engine.txt
  : >"$E"
  if [ ! -x "$L" ] || [ ! -d "$M" ]; then
    add engine "not run: no lamina CLI in the build or no .gpucarry/caffe-models"
  else
    mkdir -p "$BUILD/mnist" "$BUILD/caffe/examples/mnist"
    for f in "$ROOT"/.gpucarry/mnist/*.gz; do gunzip -c "$f" >"$BUILD/mnist/$(basename "$f" .gz)"; done
    "$L" data mnist "$BUILD/mnist" "$BUILD/caffe/examples/mnist" --force >>"$E" 2>&1
    log "lamina train LeNet on cuda ($engine_iters iterations)"
    t0=$(date +%s.%N)
    "$L" train --solver "$M/examples/mnist/lenet_solver.prototxt" --root "$M" --data-root "$BUILD/caffe" \
      --device cuda --max-iter "$engine_iters" >"$TMPLOG/lenet_cuda.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    { echo "=== lamina train LeNet (cuda)"; cat "$TMPLOG/lenet_cuda.log"; } >>"$E"
    acc=$(grep -E "test net 0: accuracy" "$TMPLOG/lenet_cuda.log" | tail -1 | sed -E 's/.*accuracy = ([0-9.]+).*/\1/')
    add lenet "rc=$rc; final test accuracy ${acc:-?}; wall $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s ($engine_iters iterations, cuda)"
    for spec in "LeNet|$M/examples/mnist/lenet_train_test.prototxt|64,1,28,28" \
      "AlexNet|$M/models/bvlc_alexnet/train_val.prototxt|128,3,227,227" \
      "CIFAR10-quick|$M/examples/cifar10/cifar10_quick_train_test.prototxt|100,3,32,32" \
      "CIFAR10-full|$M/examples/cifar10/cifar10_full_train_test.prototxt|100,3,32,32"; do
      IFS='|' read -r name net shape <<<"$spec"
      echo "=== $name" >>"$E"
      "$L" time --model "$net" --device cuda --iterations 20 --random-data --data-shape "$shape" --root "$M" \
        --data-root "$BUILD/caffe" >>"$E" 2>&1
      ips=$(grep "whole passes" "$E" | tail -1 | sed -E 's/.*forward\+backward [0-9.]+ ms \(([0-9.]+) images\/s\).*/\1/')
      add "$name" "train images/s (fwd+bwd, lamina time): ${ips:-failed}"
    done
  fi
fi

# ---------------------------------------------------------------- summary (last)
{
  echo
  echo "==================== gpu_check summary ($(elapsed) s) ===================="
  while IFS= read -r l; do echo "machine    $l"; done <<<"$MACHINE"
  for r in "${SUMMARY[@]}"; do echo "$r"; done
  echo "outputs in $OUTDIR: summary.txt $(find "$OUTDIR" -maxdepth 1 -type f ! -name summary.txt -printf '%f ' | sort)"
} | tee "$OUTDIR/summary.txt"
