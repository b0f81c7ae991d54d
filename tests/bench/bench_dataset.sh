#!/usr/bin/env bash
# Benchmarks of the dataset stage (issue 3), written as JSON under build/bench/:
#  validators.json          lib/jsonschema vs python-jsonschema vs ajv 8 on the DSL schemas, 100k instances
#  samples_concurrency.json ds-build samples against teacher-sim --delay-ms 50 at concurrency 1 and 8
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/bin"
OUT="$BUILD/bench"
mkdir -p "$OUT"
cd "$ROOT"
# Debian's python3 and python3-jsonschema (installed by make deps) are the peer measured.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# --- data: the DSL schemas and teacher ASTs of the dev config, all 14 domains
DSL="$OUT/dsl"
"$BIN/ds-build" all --config configs/defaults.dev.yaml --set run.output_root="$DSL" --max-domains 14 \
  --samples-per-schema 60 --offline-fallback --no-resume --progress off 2>/dev/null
python3 - "$DSL" <<'PY'
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/d_03_dataset.jsonl")]
with open(d + "/instances.jsonl", "w") as f:
    for i in range(100000):
        r = rows[i % len(rows)]
        inst = r["ast"]
        if i % 7 == 0:  # every 7th instance made invalid, so failures are measured too
            inst = {"query": {"limit": -1}}
        f.write(json.dumps({"schema_id": r["schema_id"], "instance": inst}) + "\n")
PY

results=()
results+=("$("$BIN/bench_validate" --schemas "$DSL/d_02_final_schemas.jsonl" --instances "$DSL/instances.jsonl")")
# python-jsonschema runs ~400 instances/s here: it gets the first 10,000 instances (its rate is per instance).
head -n 10000 "$DSL/instances.jsonl" > "$DSL/instances_10k.jsonl"
results+=("$($PY tests/bench/validate_python.py "$DSL/d_02_final_schemas.jsonl" "$DSL/instances_10k.jsonl" 1)")
NODE_DIR="$OUT/node"
if [ ! -d "$NODE_DIR/node_modules/ajv" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund ajv@8 >/dev/null 2>&1) || true
fi
if [ -d "$NODE_DIR/node_modules/ajv" ]; then
  results+=("$(NODE_PATH="$NODE_DIR/node_modules" node tests/bench/validate_ajv.js "$DSL/d_02_final_schemas.jsonl" "$DSL/instances.jsonl" 3)")
else
  results+=('{"validator": "ajv 8", "error": "npm install ajv@8 failed"}')
fi
printf '%s\n' "${results[@]}" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
ours = rows[0]["per_second"]
peers = [r for r in rows[1:] if "per_second" in r]
out = {"benchmark": "jsonschema_validate", "instances": rows[0]["instances"], "results": rows,
       "target": "faster than python-jsonschema and ajv", "target_met": all(ours > p["per_second"] for p in peers) and len(peers) == 2}
json.dump(out, open(sys.argv[1], "w"), indent=2); print(json.dumps(out, indent=2))' "$OUT/validators.json"

# --- samples per second against a slow teacher, at concurrency 1 and 8
SIMDIR="$(mktemp -d)"
"$BIN/teacher-sim" --port 0 --port-file "$SIMDIR/port" --delay-ms 50 >/dev/null 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; rm -rf "$SIMDIR"' EXIT
for _ in $(seq 1 100); do [ -s "$SIMDIR/port" ] && break; sleep 0.05; done
HOST="http://127.0.0.1:$(cat "$SIMDIR/port")"
declare -A RATE
for c in 1 8; do
  S="$OUT/samples_c$c"
  rm -rf "$S"; mkdir -p "$S"
  head -n 2 "$DSL/d_02_final_schemas.jsonl" > "$S/d_02_final_schemas.jsonl"
  start=$(date +%s.%N)
  "$BIN/ds-build" samples --config configs/defaults.dev.yaml --set run.output_root="$S" --teacher-host "$HOST" \
    --samples-per-schema 40 --teacher-concurrency "$c" --no-resume --progress off 2>/dev/null
  end=$(date +%s.%N)
  RATE[$c]=$(python3 -c "print(80 / ($end - $start))")
done
python3 -c '
import json, sys
r1, r8 = float(sys.argv[1]), float(sys.argv[2])
out = {"benchmark": "samples_concurrency", "teacher": "teacher-sim --delay-ms 50", "samples": 80,
       "samples_per_second_concurrency_1": r1, "samples_per_second_concurrency_8": r8, "speedup": r8 / r1,
       "target_speedup": 6.0, "target_met": r8 / r1 >= 6.0}
json.dump(out, open(sys.argv[3], "w"), indent=2); print(json.dumps(out, indent=2))' "${RATE[1]}" "${RATE[8]}" "$OUT/samples_concurrency.json"
