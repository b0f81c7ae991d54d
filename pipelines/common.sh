#!/usr/bin/env bash
# Shared helpers of the pipeline runners: paths, building on demand, config lookups through cfg-resolve.
set -euo pipefail

ASTFORGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASTFORGE_BIN="${ASTFORGE_BUILD_DIR:-$ASTFORGE_ROOT/build}/bin"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Children die with their runner, even one killed with SIGKILL (no trap runs then): a tool whose parent is
# the runner named here asks the kernel for SIGTERM when it goes (lib/config/cli.cpp), and stops cleanly.
# Nested runners are started through run_runner, which does the same for a bash script with SIGKILL (bash
# would put off a trapped TERM until its own child ends).
export ASTFORGE_RUNNER_PID=$$
run_runner() { setpriv --pdeathsig KILL -- "$@"; }

# libgomp's threads spin after every parallel region and starve OpenBLAS's threads on a small machine (a third
# of a dev SFT step went to spinning and sched_yield); with no spinning, 16 dev SFT steps took 21-23 s instead
# of 33-36 s on 2 cores. It must be set before a tool starts (libgomp reads it when loaded). A value the user
# set is kept.
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-0}"

# Builds the tools (installing dependencies first) when any is missing.
ensure_built() {
  if [ ! -x "$ASTFORGE_BIN/cfg-check" ] || [ ! -x "$ASTFORGE_BIN/train-sft" ] || [ ! -x "$ASTFORGE_BIN/export" ] || [ ! -x "$ASTFORGE_BIN/serve" ]; then
    log "building astforge (make deps all)"
    make -C "$ASTFORGE_ROOT" deps all >&2
  fi
}

# cfg_get KEY: the resolved value of KEY for the runner's config (one source of truth for paths).
cfg_get() { "$ASTFORGE_BIN/cfg-resolve" "${CONFIG_ARGS[@]}" --get "$1"; }

# start_teacher_if_simulated: when the config's teacher is teacher-sim, starts one on a free loopback port,
# stops it when the runner exits (also on Ctrl-C and on failure), and sets TEACHER_ARGS to point at it.
start_teacher_if_simulated() {
  local model
  model="$(cfg_get teacher.model)"
  if [ -n "${TEACHER_MODEL_OVERRIDE:-}" ]; then model="$TEACHER_MODEL_OVERRIDE"; fi
  [ "$model" = "teacher-sim" ] || return 0
  SIM_DIR="$(mktemp -d)"
  "$ASTFORGE_BIN/teacher-sim" "${CONFIG_ARGS[@]}" --port 0 --port-file "$SIM_DIR/port" >/dev/null 2>"$SIM_DIR/log" &
  SIM_PID=$!
  trap 'stop_teacher_sim' EXIT
  trap 'stop_teacher_sim; exit 130' INT TERM
  for _ in $(seq 1 200); do
    [ -s "$SIM_DIR/port" ] && break
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      echo "teacher-sim did not start:" >&2
      cat "$SIM_DIR/log" >&2
      exit 1
    fi
    sleep 0.05
  done
  TEACHER_ARGS+=(--teacher-host "http://127.0.0.1:$(cat "$SIM_DIR/port")")
  log "teacher-sim listening on port $(cat "$SIM_DIR/port") (pid $SIM_PID)"
}

stop_teacher_sim() {
  if [ -n "${SIM_PID:-}" ] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill -TERM "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  SIM_PID=""
  [ -n "${SIM_DIR:-}" ] && rm -rf "$SIM_DIR"
  SIM_DIR=""
}
