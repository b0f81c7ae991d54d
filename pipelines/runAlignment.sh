#!/usr/bin/env bash
# runAlignment.sh: teacher-judged eval of the SFT student -> preference pairs -> DPO -> eval of the aligned student.
# Usage: pipelines/runAlignment.sh [--config FILE] [--teacher-model M] [--fresh] [extra train-dpo flags...]
# Needs a teacher (its verdicts make the pairs); resumes the evaluations and DPO by default.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFIG="$ASTFORGE_ROOT/configs/defaults.dev.yaml"
TEACHER_ARGS=()
RESUME=(--resume)
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --teacher-model) TEACHER_ARGS=(--teacher-model "$2"); TEACHER_MODEL_OVERRIDE="$2"; shift 2 ;;
    --fresh) RESUME=(); shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
CONFIG_ARGS=(--config "$CONFIG")

ensure_built
teacher="${TEACHER_MODEL_OVERRIDE:-$(cfg_get teacher.model)}"
if [ -z "$teacher" ] || [ "$(cfg_get evaluation.judge)" != "true" ]; then
  echo "runAlignment.sh: DPO needs a teacher's verdicts; set teacher.model (or --teacher-model) and evaluation.judge" >&2
  exit 2
fi
start_teacher_if_simulated
sft_eval="$(cfg_get evaluation.out_dir)"
dpo_dir="$(cfg_get alignment.output_dir)"
log "eval-teacher on the SFT student ($(cfg_get alignment.adapter))"
"$ASTFORGE_BIN/eval-teacher" "${CONFIG_ARGS[@]}" "${TEACHER_ARGS[@]}" --adapter "$(cfg_get alignment.adapter)" \
  --out-dir "$sft_eval"
log "pairs-build"
"$ASTFORGE_BIN/pairs-build" "${CONFIG_ARGS[@]}" --eval-results "$sft_eval/evaluation_results.jsonl" \
  --eval-summary "$sft_eval/evaluation_summary.json"
pairs="$(cfg_get alignment.pairs_out)"
if [ ! -s "$pairs" ]; then
  log "no preference pairs (see pairs-build's counts above): nothing for DPO to learn; stopping before train-dpo"
  exit 0
fi
log "train-dpo"
"$ASTFORGE_BIN/train-dpo" "${CONFIG_ARGS[@]}" "${RESUME[@]}" "${EXTRA[@]}"
log "eval-teacher on the aligned student ($dpo_dir/checkpoint-final)"
"$ASTFORGE_BIN/eval-teacher" "${CONFIG_ARGS[@]}" "${TEACHER_ARGS[@]}" --adapter "$dpo_dir/checkpoint-final" \
  --out-dir "$dpo_dir/eval"
log "alignment done: SFT $sft_eval/evaluation_summary.json, DPO $dpo_dir/eval/evaluation_summary.json"
"$ASTFORGE_BIN/report" "${CONFIG_ARGS[@]}"
log "report: $(cfg_get report.out_dir)/report.md, alignment_report.md beside it"
