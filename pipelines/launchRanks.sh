#!/usr/bin/env bash
# launchRanks.sh: starts N local ranks of a data-parallel tool (train-sft, train-dpo) the way torchrun does:
# RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set per process.
# Usage: pipelines/launchRanks.sh --nproc N [--master-port P] TOOL [tool flags...]
#   TOOL is a tool name (train-sft) or a path. Ctrl-C is passed once to every rank (each saves and exits 130);
#   when one rank fails, the others are stopped and its exit code is returned.
# Across machines, start one launcher per machine with --node-rank, --nnodes and --master-addr.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NPROC=1
NNODES=1
NODE_RANK=0
MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"
MASTER_PORT="${MASTER_PORT:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc|--nproc-per-node) NPROC="$2"; shift 2 ;;
    --nnodes) NNODES="$2"; shift 2 ;;
    --node-rank) NODE_RANK="$2"; shift 2 ;;
    --master-addr) MASTER_ADDR="$2"; shift 2 ;;
    --master-port) MASTER_PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# //'; exit 0 ;;
    --) shift; break ;;
    -*) echo "launchRanks.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "launchRanks.sh: no tool given (see --help)" >&2; exit 2; }
for n in "$NPROC" "$NNODES" "$NODE_RANK"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "launchRanks.sh: '$n' is not a count" >&2; exit 2; }
done
TOOL="$1"; shift
if [[ "$TOOL" != */* ]]; then ensure_built; TOOL="$ASTFORGE_BIN/$TOOL"; fi
if [ -z "$MASTER_PORT" ]; then
  # A free port on this machine (the kernel picks one; rank 0 binds it right after).
  MASTER_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $((20000 + RANDOM % 30000)))"
fi

PIDS=()
stop_ranks() {
  local sig="$1"
  for pid in "${PIDS[@]}"; do kill -"$sig" "$pid" 2>/dev/null || true; done
}
# Each rank runs in its own session, so a Ctrl-C in the terminal reaches it once, through this trap.
trap 'stop_ranks INT; wait; exit 130' INT
trap 'stop_ranks TERM; wait; exit 143' TERM

WORLD=$((NPROC * NNODES))
log "starting $NPROC rank(s) of $WORLD: $(basename "$TOOL") (master $MASTER_ADDR:$MASTER_PORT)"
for ((local = 0; local < NPROC; local++)); do
  RANK=$((NODE_RANK * NPROC + local)) WORLD_SIZE=$WORLD LOCAL_RANK=$local LOCAL_WORLD_SIZE=$NPROC \
    MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT setsid "$TOOL" "$@" &
  PIDS+=($!)
done

# The first rank to fail stops the rest; success needs every rank to succeed.
STATUS=0
REMAINING=${#PIDS[@]}
while [ "$REMAINING" -gt 0 ]; do
  set +e
  wait -n
  CODE=$?
  set -e
  REMAINING=$((REMAINING - 1))
  if [ "$CODE" -ne 0 ] && [ "$STATUS" -eq 0 ]; then
    STATUS=$CODE
    log "a rank exited with status $CODE; stopping the others"
    stop_ranks TERM
  fi
done
exit "$STATUS"
