#!/usr/bin/env bash
# Prompt processing and decoding speed of lf-eval on SmolLM2-135M-Instruct, side by side in one run
# with transformers (PyTorch, CPU, float32) and llama.cpp (llama-cpp-python) on F32 and F16 GGUF
# files of the same weights, all on the same threads and the same ~512-token prompt, decoding 128
# tokens greedily. Each engine runs ROUNDS times in turn; medians and ratios are printed with the
# issue's targets.
#
# usage: scripts/bench/generate.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
threads=${2:-$(nproc)}
new_tokens=128
shared=${LF_SHARED:-../shared}

bash scripts/setup.sh
bash scripts/fetch-model.sh
venv=.venv-bench
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import torch, transformers, gguf" 2>/dev/null; then
  # A CPU-only torch wheel when the machine has one at hand (PIP_FIND_LINKS), else PyPI's.
  "$venv/bin/pip" install --quiet "torch==2.13.0+cpu" 2>/dev/null || "$venv/bin/pip" install --quiet torch
  "$venv/bin/pip" install --quiet transformers safetensors numpy gguf
fi
have_llama=1
if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$venv/bin/pip" install --quiet llama-cpp-python || have_llama=0
fi

work=work/bench/generate
mkdir -p "$work"
model=models/smollm2-135m-instruct
if [ "$have_llama" = 1 ]; then
  for kind in f32 f16; do
    [ -f "$work/smollm2.$kind.gguf" ] || "$venv/bin/python" scripts/bench/gguf_retype.py models/.cache/SmolLM2-135M-Instruct.Q4_1.gguf "$work/smollm2.$kind.gguf" $kind
  done
fi
# The prompt: the first ~512 tokens of a reference text.
prompt="$work/prompt.txt"
python3 - "$shared/corpus/dev/pdf-academic-2col-acm-tracemonkey.pdf.ref.txt" "$prompt" <<'PY'
import sys
words = open(sys.argv[1], encoding="utf-8").read().split()
open(sys.argv[2], "w", encoding="utf-8").write(" ".join(words[:330]))
PY
python3 -c "import json,sys; print(json.dumps({'prompt': open(sys.argv[1]).read()}))" "$prompt" > "$work/prompt.jsonl"

python3 - "$rounds" "$threads" "$new_tokens" "$model" "$work" "$venv/bin/python" "$have_llama" <<'PY'
import json, os, statistics, subprocess, sys
rounds, threads, new_tokens, model, work, py, have_llama = sys.argv[1:8]
rounds, threads, new_tokens = int(rounds), int(threads), int(new_tokens)
env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
engines = {
    "lf f32":  ["taskset", "-c", f"0-{threads-1}", ".build/release/lf-eval", "generate", "-m", model, "--template", "none", "--ignore-eos",
                "--max-new-tokens", str(new_tokens), "-q", f"{work}/prompt.jsonl"],
    "lf bf16": ["taskset", "-c", f"0-{threads-1}", ".build/release/lf-eval", "generate", "-m", model, "--template", "none", "--ignore-eos",
                "--max-new-tokens", str(new_tokens), "--dtype", "bf16", "-q", f"{work}/prompt.jsonl"],
    "transformers f32": [py, "scripts/bench/peer_generate.py", "transformers", model, f"{work}/prompt.txt", str(new_tokens), str(threads)],
}
if have_llama == "1":
    for kind in ["f32", "f16"]:
        engines[f"llama.cpp {kind}"] = [py, "scripts/bench/peer_generate.py", "llamacpp", f"{work}/smollm2.{kind}.gguf",
                                       f"{work}/prompt.txt", str(new_tokens), str(threads)]
results = {k: {"pp": [], "tg": [], "tokens": 0} for k in engines}
for _ in range(rounds):
    for name, cmd in engines.items():
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        if name.startswith("lf"):
            pp, tg, n = r["prompt_tokens"] / r["prompt_seconds"], r["completion_tokens"] / r["completion_seconds"], r["prompt_tokens"]
        else:
            pp, tg, n = r["prompt_tokens"] / r["prompt_seconds"], r["new_tokens"] / r["decode_seconds"], r["prompt_tokens"]
        results[name]["pp"].append(pp); results[name]["tg"].append(tg); results[name]["tokens"] = n
med = {k: (statistics.median(v["pp"]), statistics.median(v["tg"])) for k, v in results.items()}
print(f"SmolLM2-135M-Instruct, {threads} threads, prompt ~{results['lf f32']['tokens']} tokens, {new_tokens} new tokens greedy; median of {rounds}")
print(f"  {'engine':18s} {'prompt tok/s':>13s} {'decode tok/s':>13s}")
for k, (pp, tg) in med.items():
    print(f"  {k:18s} {pp:13.1f} {tg:13.1f}   (tokens {results[k]['tokens']})")
tf = med["transformers f32"]
def line(label, value, target):
    print(f"  {label:58s} {value:6.2f}x   (target {target})")
print("ratios:")
line("lf f32 prompt / transformers", med["lf f32"][0] / tf[0], ">= 1.2")
line("lf f32 decode / transformers", med["lf f32"][1] / tf[1], ">= 2.5")
if "llama.cpp f32" in med:
    line("lf f32 prompt / llama.cpp f32", med["lf f32"][0] / med["llama.cpp f32"][0], ">= 1.0")
    line("lf bf16 decode / llama.cpp f16", med["lf bf16"][1] / med["llama.cpp f16"][1], ">= 1.0")
else:
    print("  llama-cpp-python did not build here: no llama.cpp comparison")
PY
