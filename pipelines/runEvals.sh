#!/usr/bin/env bash
# runEvals.sh: eval-teacher on the SFT checkpoint (or --adapter DIR), and on the DPO checkpoint when one exists,
# then report.md (and alignment_report.md when both evaluations exist).
# Usage: pipelines/runEvals.sh [--config FILE] [--teacher-model M] [--adapter DIR] [extra eval-teacher flags...]
# Resumes an interrupted evaluation by default; starts teacher-sim when the config's teacher is teacher-sim.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFIG="$ASTFORGE_ROOT/configs/defaults.dev.yaml"
TEACHER_ARGS=()
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --teacher-model) TEACHER_ARGS=(--teacher-model "$2"); TEACHER_MODEL_OVERRIDE="$2"; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
CONFIG_ARGS=(--config "$CONFIG")

ensure_built
start_teacher_if_simulated
log "eval-teacher (config $CONFIG)"
"$ASTFORGE_BIN/eval-teacher" "${CONFIG_ARGS[@]}" "${TEACHER_ARGS[@]}" "${EXTRA[@]}"
dpo_dir="$(cfg_get alignment.output_dir)"
if [ -d "$dpo_dir/checkpoint-final" ]; then
  log "eval-teacher on the aligned student ($dpo_dir/checkpoint-final)"
  "$ASTFORGE_BIN/eval-teacher" "${CONFIG_ARGS[@]}" "${TEACHER_ARGS[@]}" "${EXTRA[@]}" \
    --adapter "$dpo_dir/checkpoint-final" --out-dir "$dpo_dir/eval"
fi
"$ASTFORGE_BIN/report" "${CONFIG_ARGS[@]}"
log "report: $(cfg_get report.out_dir)/report.md"
