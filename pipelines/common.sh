#!/usr/bin/env bash
# Shared helpers of the pipeline runners: paths, building on demand, config lookups through cfg-resolve.
set -euo pipefail

ASTFORGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASTFORGE_BIN="${ASTFORGE_BUILD_DIR:-$ASTFORGE_ROOT/build}/bin"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Builds the tools (installing dependencies first) when any is missing.
ensure_built() {
  if [ ! -x "$ASTFORGE_BIN/cfg-check" ] || [ ! -x "$ASTFORGE_BIN/train-sft" ]; then
    log "building astforge (make deps all)"
    make -C "$ASTFORGE_ROOT" deps all >&2
  fi
}

# cfg_get KEY: the resolved value of KEY for the runner's config (one source of truth for paths).
cfg_get() { "$ASTFORGE_BIN/cfg-resolve" "${CONFIG_ARGS[@]}" --get "$1"; }
