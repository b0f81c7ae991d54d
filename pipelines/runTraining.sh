#!/usr/bin/env bash
# runTraining.sh: SFT of the student on the corpus (train-sft), resuming from the latest checkpoint by default.
# Usage: pipelines/runTraining.sh [--config FILE] [--fresh] [--nproc N] [extra train-sft flags...]
#   --nproc N trains data-parallel on N local ranks (pipelines/launchRanks.sh).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFIG="$ASTFORGE_ROOT/configs/defaults.dev.yaml"
RESUME=(--resume)
NPROC=1
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --fresh) RESUME=(); shift ;;
    --nproc) NPROC="$2"; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
CONFIG_ARGS=(--config "$CONFIG")

ensure_built
log "train-sft (config $CONFIG)"
if [ "$NPROC" != 1 ]; then
  run_runner "$ASTFORGE_ROOT/pipelines/launchRanks.sh" --nproc "$NPROC" "$ASTFORGE_BIN/train-sft" \
    "${CONFIG_ARGS[@]}" "${RESUME[@]}" "${EXTRA[@]}"
else
  "$ASTFORGE_BIN/train-sft" "${CONFIG_ARGS[@]}" "${RESUME[@]}" "${EXTRA[@]}"
fi
log "training done (train-sft printed where checkpoint-final is)"
