#!/usr/bin/env bash
# Installs every Debian package astforge needs. Idempotent: installs only what is missing; uses sudo only
# when not root. The list is DESIGN.md's "Dependencies" section.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  clang libclang-rt-14-dev                          # the libFuzzer targets (fuzz/, make fuzz-smoke)
  libtorch-dev libopenblas0-pthread libgloo-dev    # tensors, autograd, c10d; fast float32 BLAS
  libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev doctest-dev
  libcpp-httplib-dev libsentencepiece-dev libre2-dev libutf8proc-dev
  gnuplot-nox json-schema-test-suite python3-jsonschema   # python3-jsonschema also ships the meta-schemas
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (for the tokenizer fixture and its reference encoder) ship with this machine image; Debian's
# packages are installed only when they are missing, since they conflict with the image's own Node.js.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
