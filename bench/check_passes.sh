#!/bin/sh
# ctest check of lamina-bench's multi-pass run: --batch list, --infer-batches, --skip-slow,
# --results-csv (and --ceiling on the GPU). Exits 77 (skipped) when the backend is unavailable.
# usage: check_passes.sh BENCH RESULTS_CSV EXPECTED_ROWS EXPECT_CEILING(0|1) [bench arguments...]
bench=$1 csv=$2 rows=$3 ceiling=$4
shift 4
rm -f "$csv"
out=$("$bench" "$@" --results-csv "$csv" 2>&1)
rc=$?
echo "$out"
fail() {
  echo "check_passes: FAIL: $*"
  exit 1
}
if echo "$out" | grep -q BACKEND_UNAVAILABLE; then exit 77; fi
[ $rc -eq 0 ] || fail "lamina-bench exited $rc"
echo "$out" | tail -1 | grep -q '^summary:' || fail "the summary: line is not last"
echo "$out" | grep -q '^== summary' || fail "no summary table"
echo "$out" | grep -q '^heuristic: ' || fail "no heuristic line"
echo "$out" | grep -q '^first call: largest' || fail "no first-call line"
[ "$(head -1 "$csv")" = "layer,config,direction,batch,lamina_ms,cudnn_ms,algorithm" ] || fail "results CSV header"
n=$(($(wc -l <"$csv") - 1))
[ "$n" -eq "$rows" ] || fail "results CSV has $n rows, expected $rows"
awk -F, 'NR > 1 && ($5 == "" || $7 == "")' "$csv" | grep -q . && fail "a results row without Lamina's time or algorithm"
if [ "$ceiling" = 1 ]; then
  for c in fp16 bf16 tf32 fp32 fp64; do
    echo "$out" | grep -qE "^ceiling $c +[0-9.]+ TF/s" || fail "no $c ceiling"
  done
  echo "$out" | grep -q '^== largest layers' || fail "no largest-layers table"
fi
echo "check_passes: ok ($n rows)"
