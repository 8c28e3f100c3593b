#!/usr/bin/env bash
# Installs the system packages lf builds against (Debian): OpenBLAS, zstd, pkg-config, poppler-glib,
# libxml2 and libzip (lf-extract), poppler-utils (pdftotext, for scripts/bench/extract.sh), and pip
# for fetching the default model. Idempotent: does nothing when they are present. Then builds the tools
# (release) unless LF_SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas-dev libzstd-dev pkg-config libpoppler-glib-dev libxml2-dev libzip-dev poppler-utils python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-pip is only needed when no pip is on the machine already (pyenv, venv, …).
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH; install Swift 6 (https://www.swift.org/install/linux/)" >&2
  exit 1
fi

if [ "${LF_SKIP_BUILD:-0}" != "1" ]; then
  echo "setup: building the tools (release)" >&2
  # A failed build must fail here, even when binaries from an earlier build are still in .build.
  log=$(mktemp)
  status=0
  swift build -c release >"$log" 2>&1 || status=$?
  grep -E "error|warning: |Build complete" "$log" | grep -v "^\[" >&2 || true
  rm -f "$log"
  [ "$status" -eq 0 ] || { echo "setup: the release build failed (run: swift build -c release)" >&2; exit 1; }
fi
