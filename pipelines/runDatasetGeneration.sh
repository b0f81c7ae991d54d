#!/usr/bin/env bash
# runDatasetGeneration.sh: domain specs -> schemas -> samples -> SFT corpus + eval set (d_01 .. d_05).
# Usage: pipelines/runDatasetGeneration.sh [--config FILE] [--teacher-model M] [extra ds-build flags...]
# Resumes by default (dataset_generation.resume); starts teacher-sim when the config's teacher is teacher-sim.
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
log "ds-build all (config $CONFIG)"
"$ASTFORGE_BIN/ds-build" all "${CONFIG_ARGS[@]}" "${TEACHER_ARGS[@]}" "${EXTRA[@]}"
log "dataset ready: $(cfg_get dataset_generation.training_corpus_out) and $(cfg_get dataset_generation.eval_set_out)"
