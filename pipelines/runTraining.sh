#!/usr/bin/env bash
# runTraining.sh: SFT of the student on the corpus (train-sft), resuming from the latest checkpoint by default.
# Usage: pipelines/runTraining.sh [--config FILE] [--fresh] [extra train-sft flags...]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CONFIG="$ASTFORGE_ROOT/configs/defaults.dev.yaml"
RESUME=(--resume)
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --fresh) RESUME=(); shift ;;
    -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
CONFIG_ARGS=(--config "$CONFIG")

ensure_built
log "train-sft (config $CONFIG)"
"$ASTFORGE_BIN/train-sft" "${CONFIG_ARGS[@]}" "${RESUME[@]}" "${EXTRA[@]}"
log "training done (train-sft printed where checkpoint-final is)"
