#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS|runs=N: runs every fuzz target for SECONDS (or, for a smoke test that does the same
# work each time, N inputs from seed 1) from its seed corpus (fuzz/corpus/<target>/, checked in; new inputs go
# to BUILD_DIR/corpus/<target>/), writes BUILD_DIR/fuzz.json with the executions and crashes per target, and
# fails when any target crashed (its input is kept in BUILD_DIR/crashes/).
set -euo pipefail
BUILD="$1"
BUDGET="$2"
if [[ "$BUDGET" == runs=* ]]; then
  LIMIT=(-runs="${BUDGET#runs=}" -seed=1)
else
  LIMIT=(-max_total_time="$BUDGET")
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$BUILD/crashes"
summary="{"
failed=0
for target in config jsonl jsonschema safetensors tokenizer matcher; do
  work="$BUILD/corpus/$target"
  mkdir -p "$work"
  log="$BUILD/fuzz_$target.log"
  set +e
  "$BUILD/fuzz_$target" "${LIMIT[@]}" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$target-" "$work" "$HERE/corpus/$target" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
  crashes="$(find "$BUILD/crashes" -name "$target-*" | wc -l)"
  echo "fuzz_$target: ${execs:-0} executions ($BUDGET), $crashes crash(es), exit $rc" >&2
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -m 5 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" >&2 || true
  fi
  summary+="\"$target\":{\"executions\":${execs:-0},\"crashes\":$crashes,\"budget\":\"$BUDGET\"},"
done
echo "${summary%,}}" > "$BUILD/fuzz.json"
echo "fuzz: figures in $BUILD/fuzz.json" >&2
exit "$failed"
