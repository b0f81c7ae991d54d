#!/usr/bin/env bash
# runAll.sh: check the config, then run the stages asked for: dataset -> SFT -> eval -> DPO alignment -> export.
# Usage: ./runAll.sh [--config FILE] [--teacher-model M] [--with-training] [--with-evals] [--with-alignment]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFIG="$ASTFORGE_ROOT/configs/defaults.dev.yaml"
TEACHER_ARGS=()
WITH_TRAINING=0 WITH_EVALS=0 WITH_ALIGNMENT=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --teacher-model) TEACHER_ARGS=(--teacher-model "$2"); shift 2 ;;
    --with-training) WITH_TRAINING=1; shift ;;
    --with-evals) WITH_EVALS=1; shift ;;
    --with-alignment) WITH_ALIGNMENT=1; shift ;;
    -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;;
    *) echo "runAll.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
CONFIG_ARGS=(--config "$CONFIG")

ensure_built
log "checking $CONFIG"
"$ASTFORGE_BIN/cfg-check" "$CONFIG"
out_root="$(cfg_get run.output_root)"
"$ASTFORGE_BIN/cfg-resolve" "${CONFIG_ARGS[@]}" -o "$out_root/run_config.json"

# Each stage's wall time goes to timings.jsonl (README's reference run is made from it).
timings="$out_root/timings.jsonl"
: > "$timings"
started=$SECONDS
timed() {
  local stage="$1" t0=$SECONDS
  shift
  run_runner "$@"
  printf '{"stage":"%s","seconds":%d}\n' "$stage" $((SECONDS - t0)) >> "$timings"
}

timed "dataset (ds-build)" "$ASTFORGE_ROOT/pipelines/runDatasetGeneration.sh" --config "$CONFIG" "${TEACHER_ARGS[@]}"

if [ "$WITH_TRAINING" = 1 ]; then timed "SFT (train-sft)" "$ASTFORGE_ROOT/pipelines/runTraining.sh" --config "$CONFIG"; fi
# runAlignment.sh evaluates the SFT student itself, so --with-evals adds nothing to it.
if [ "$WITH_ALIGNMENT" = 1 ]; then
  timed "evaluation and alignment (eval-teacher, pairs-build, train-dpo, eval-teacher)" \
    "$ASTFORGE_ROOT/pipelines/runAlignment.sh" --config "$CONFIG" "${TEACHER_ARGS[@]}"
elif [ "$WITH_EVALS" = 1 ]; then
  timed "evaluation (eval-teacher)" "$ASTFORGE_ROOT/pipelines/runEvals.sh" --config "$CONFIG" "${TEACHER_ARGS[@]}"
fi
# runEvals.sh and runAlignment.sh end with the report; after training alone it is made here.
if [ "$WITH_TRAINING" = 1 ] && [ "$WITH_EVALS$WITH_ALIGNMENT" = 00 ]; then
  "$ASTFORGE_BIN/report" "${CONFIG_ARGS[@]}" 2>/dev/null
  log "report: $(cfg_get report.out_dir)/report.md"
fi
# The trained student, taken out (export.*: GGUF q8_0 with an Ollama Modelfile by default): the aligned one
# when alignment ran, else the SFT one.
if [ "$WITH_TRAINING$WITH_ALIGNMENT" != 00 ]; then
  if [ "$WITH_ALIGNMENT" = 1 ]; then student="$(cfg_get alignment.output_dir)/checkpoint-final"
  else student="$(cfg_get training.output_dir)/checkpoint-final"; fi
  timed "export" "$ASTFORGE_BIN/export" "${CONFIG_ARGS[@]}" --adapter "$student"
  name="$(cfg_get export.name)"
  log "run the student in Ollama: cd $(cfg_get export.output_dir) && ollama create $name -f Modelfile && ollama run $name"
  log "or serve it with every answer held to the request's schema: $ASTFORGE_BIN/serve ${CONFIG_ARGS[*]} --adapter $student"
fi
log "done in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s; outputs under $out_root"
