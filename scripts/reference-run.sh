#!/usr/bin/env bash
# reference-run.sh: runs README's main command from scratch on the dev config, keeps what it produced in
# docs/reference-run/, and regenerates README's "Reference run" section from those files.
# Usage: scripts/reference-run.sh            (takes about as long as the run itself)
#        scripts/reference-run.sh --readme-only  (regenerates the README section from docs/reference-run/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REF=docs/reference-run
BIN="${ASTFORGE_BUILD_DIR:-build}/bin"

if [ "${1:-}" != "--readme-only" ]; then
  make all >&2
  out_root="$("$BIN/cfg-resolve" --config configs/defaults.dev.yaml --get run.output_root)"
  rm -rf "$out_root"
  log="$(mktemp)"
  ./runAll.sh --with-training --with-alignment 2> >(tee "$log" >&2)
  sleep 1  # let tee finish
  cfg() { "$BIN/cfg-resolve" --config configs/defaults.dev.yaml --get "$1"; }
  mkdir -p "$REF"
  cp "$(cfg evaluation.eval_summary)" "$REF/sft_evaluation_summary.json"
  cp "$(cfg report.dpo_eval_summary)" "$REF/dpo_evaluation_summary.json"
  cp "$(cfg training.output_dir)/training_metrics.jsonl" "$REF/training_metrics.jsonl"
  cp "$out_root/timings.jsonl" "$REF/timings.jsonl"
  cp "$out_root/run_config.json" "$REF/run_config.json"
  # Progress bars ("train: 12/300 (4.0%) ...") are noise in a kept log.
  grep -Ev '^[a-z-]+: [0-9]+/[0-9]+ \(' "$log" > "$REF/runAll.log" || true
  rm -f "$log"
fi

section="$(mktemp)"
"$BIN/report" --reference-run "$REF" > "$section"
# Replace what lies between the markers in README.md.
awk -v section="$section" '
  /<!-- reference-run:begin -->/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
  /<!-- reference-run:end -->/ { skip = 0 }
  !skip { print }
' README.md > README.md.tmp && mv README.md.tmp README.md
rm -f "$section"
echo "README.md: Reference run section regenerated from $REF" >&2
