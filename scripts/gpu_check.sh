#!/usr/bin/env bash
# The one-call check on the GPU machine: Release build (build-gpu/), the GPU tests (ctest -L gpu),
# compute-sanitizer memcheck and racecheck passes over a short problem list, and lamina-bench on the
# CUDA backend against cuDNN at batch 64 in four configs. Logs, CSV and the summary go to $OUT when
# set (the device tool brings that folder back), else build-gpu/gpu_check/. The summary table is
# printed last. Nothing is installed: it uses what the machine has (CUDA at /usr/local/cuda, cmake,
# g++, OpenBLAS, GTest, cuDNN; no oneDNN, so the bench has no CPU peer there).
#
# usage: scripts/gpu_check.sh [--quick] [--no-tests] [--no-sanitizer] [--no-bench]
#                             [--tests-only REGEX] [--bench-args "ARGS"] [--configs LIST] [--jobs N]
#   --quick            shorter everything (fits in 10 minutes with a warm or fast build)
#   --tests-only REGEX build, then only the GPU tests matching REGEX (no sanitizer, no bench)
#   --bench-args ARGS  extra lamina-bench arguments (e.g. "--only resnet50 --dirs fwd")
#   --configs LIST     bench configs (default fp32,tf32,fp16_nhwc,bf16_nhwc)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

quick=0 run_tests=1 run_san=1 run_bench=1 tests_regex="" bench_args="" configs="fp32,tf32,fp16_nhwc,bf16_nhwc"
jobs=$(nproc 2>/dev/null || echo 16)
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) quick=1 ;;
  --no-tests) run_tests=0 ;;
  --no-sanitizer) run_san=0 ;;
  --no-bench) run_bench=0 ;;
  --tests-only) tests_regex="$2"; run_san=0; run_bench=0; shift ;;
  --bench-args) bench_args="$2"; shift ;;
  --configs) configs="$2"; shift ;;
  --jobs) jobs="$2"; shift ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
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

# ---------------------------------------------------------------- machine
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "no nvidia-smi"
  nvcc --version 2>&1 | tail -1
  echo "cores: $(nproc)"
} >"$OUTDIR/machine.txt" 2>&1
log "machine: $(head -3 "$OUTDIR/machine.txt" | tail -1)"

# ---------------------------------------------------------------- build
log "configure + build (Release, $BUILD, -j$jobs)"
gen=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
tb=$(date +%s)
build_ok=0
if cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DLAMINA_CUDA=ON >"$OUTDIR/build.log" 2>&1 &&
  cmake --build "$BUILD" -j "$jobs" >>"$OUTDIR/build.log" 2>&1; then
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
  line=$(grep -E "tests passed, [0-9]+ tests failed out of" "$OUTDIR/ctest.log" | tail -1)
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
  : >"$OUTDIR/sanitizer_$tool.log"
  # Per-program logs stay in the build tree: the device tool brings back at most 8 files from $OUT.
  local tmp=$BUILD/gpu_check_logs
  mkdir -p "$tmp"
  for prog in "$@"; do
    local left=$((budget - ($(date +%s) - start)))
    if [ ! -x "$BUILD/tests/$prog" ] || [ $left -le 10 ]; then
      notrun+="$prog "
      continue
    fi
    log "$tool: $prog (${left}s left)"
    echo "=== $prog" >>"$OUTDIR/sanitizer_$tool.log"
    (cd tests && LAMINA_TEST_BACKEND=cuda LAMINA_TEST_MAX_PROBLEMS=${SAN_PROBLEMS:-2} timeout "$left" \
      "$san" --tool "$tool" --error-exitcode 99 --print-limit 30 "$BUILD/tests/$prog") \
      >"$tmp/sanitizer_${tool}_$prog.log" 2>&1
    local rc=$?
    cat "$tmp/sanitizer_${tool}_$prog.log" >>"$OUTDIR/sanitizer_$tool.log"
    ran=$((ran + 1))
    local n
    n=$(grep -oE "ERROR SUMMARY: [0-9]+" "$tmp/sanitizer_${tool}_$prog.log" | grep -oE "[0-9]+$" | tail -1)
    [ "$tool" = racecheck ] && n=$(grep -oE "\(([0-9]+) errors?" "$tmp/sanitizer_${tool}_$prog.log" | grep -oE "[0-9]+" | tail -1)
    errors=$((errors + ${n:-0}))
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      timedout+="$prog "
    elif [ $rc = 77 ]; then
      bad+="$prog(skipped: no GPU) "
    elif [ $rc != 0 ]; then
      bad+="$prog(rc=$rc${n:+, $n errors}) "
    fi
  done
  add "$tool" "$errors errors in $ran programs${bad:+; FAILED: $bad}${timedout:+; timed out: $timedout}${notrun:+; not run: $notrun}"
}
if [ $build_ok = 1 ] && [ $run_san = 1 ]; then
  budget=$([ $quick = 1 ] && echo 90 || echo 180)
  # shellcheck disable=SC2086 # lists of program names
  run_sanitizer memcheck "$budget" ${SAN_MEMCHECK:-test_cuda_runtime test_conv_fwd test_pooling test_conv_bwd_data test_conv_bwd_filter test_tensor_ops test_activation test_softmax}
  # shellcheck disable=SC2086
  run_sanitizer racecheck "$budget" ${SAN_RACECHECK:-test_conv_fwd test_conv_bwd_filter test_pooling test_softmax test_reduce test_batchnorm}
fi

# ---------------------------------------------------------------- bench
if [ $build_ok = 1 ] && [ $run_bench = 1 ]; then
  if [ $quick = 1 ]; then
    args=(--iters 3 --max-seconds 0.5 --only resnet50 --deadline 150)
    btimeout=240
  else
    # The device runs one command for at most 10 minutes: split a full run with --configs.
    args=(--iters 5 --max-seconds 2 --deadline 420)
    btimeout=540
  fi
  log "lamina-bench --backend cuda --batch 64 --config $configs ${args[*]} $bench_args"
  # shellcheck disable=SC2086 # bench_args is a list of words
  timeout "$btimeout" "$BUILD/bench/lamina-bench" --backend cuda --batch 64 --config "$configs" "${args[@]}" \
    --csv "$OUTDIR/bench_cuda.csv" $bench_args >"$OUTDIR/bench_cuda.txt" 2>&1
  rc=$?
  summary=$(grep "^summary:" "$OUTDIR/bench_cuda.txt" | tail -1)
  add bench "rc=$rc; ${summary:-no summary: $(tail -1 "$OUTDIR/bench_cuda.txt" | cut -c1-200)}"
  while read -r l; do add "" "$l"; done < <(grep "^geomean config=" "$OUTDIR/bench_cuda.txt" |
    sed -E 's/^geomean config=([^ ]+) dir=([^ ]+) peer=([^ ]+) n=([0-9]+) pick=([^ ]+) best=([^ ]+).*/\1 \2: \3\/Lamina pick \5, best \6 (n=\4)/')
  tail -5 "$OUTDIR/bench_cuda.txt" | grep -E "error|MISMATCH" | sed 's/^/  /'
fi

# ---------------------------------------------------------------- summary (last)
{
  echo
  echo "==================== gpu_check summary ($(elapsed) s) ===================="
  for r in "${SUMMARY[@]}"; do echo "$r"; done
  echo "outputs: $OUTDIR"
} | tee "$OUTDIR/summary.txt"
