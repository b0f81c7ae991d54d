#!/usr/bin/env bash
# Entry point: see pipelines/runAll.sh.
exec "$(dirname "$0")/pipelines/runAll.sh" "$@"
