#!/usr/bin/env bash
# make-llama-golden.sh: regenerates tests/fixtures/llama_forward/ (a tiny Gemma 3 student, a prompt longer than
# its sliding window, and llama.cpp's next-token probabilities for it), which the forward test compares with
# even where node-llama-cpp is not installed. Needs `make deps` (the llama.cpp fixture) and a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
make build >&2
ASTFORGE_WRITE_LLAMA_GOLDEN="$ROOT/tests/fixtures/llama_forward" \
  "${ASTFORGE_BUILD_DIR:-build}/bin/model_integration_tests" \
  -tc="llama.cpp runs the f32 GGUF export with astforge's next-token distribution" >&2
echo "tests/fixtures/llama_forward: written" >&2
