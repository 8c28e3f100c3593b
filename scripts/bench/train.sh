#!/usr/bin/env bash
# lf-train against PyTorch + PEFT: LoRA r=16 on every linear module of SmolLM2-135M, sequences of
# 512 tokens, micro-batch 4, float32, the same shards and threads, in one run. Two workloads:
#   text         continued pre-training text, every token trained, every sequence a full 512 tokens;
#   instruction  alpaca_en_demo chats packed into 512-token sequences, prompts masked.
# Prints tokens/s and peak memory of each, the ratios, and the share of the machine's measured
# sgemm FLOP/s that lf's useful FLOPs reach (forward + the backward the adapter needs: the input
# gradients through the frozen weights, none into layer 0's q/k/v; the LoRA gradients; causal
# attention counted as a triangle; the LM head only at trained rows).
#
# Each workload runs ROUNDS times (sgemm peak, lf, peer), printing every round and, with more than
# one, the medians (of each column, ratios included). Then the same figures for the steps after the
# first: step 1 pays for first allocations (lf: the first touch of its activation memory, kept for
# the run; PyTorch: its allocator's warm-up), which a short run weighs more than a long one does.
#
# usage: scripts/bench/train.sh [STEPS] [THREADS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-4}
threads=${2:-2}
rounds=${3:-1}
shared=${LF_SHARED:-../shared}

bash scripts/setup.sh
bash scripts/fetch-model.sh
swift build -c release --product lf-tokenize >/dev/null
swift build -c release --product lf-format >/dev/null
swift build -c release --product lf-train >/dev/null
swift build -c release --product lf-bench >/dev/null
# The peer: PyTorch 2.15 (the version the issue's figures were measured with) + PEFT 0.21, in a
# venv of its own. PyPI's torch 2.15 wheel runs on the CPU without its CUDA libraries, which are
# left out (--no-deps) to spare gigabytes.
venv=${LF_PEER_VENV:-.venv-torch215}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import torch, transformers, peft, zstandard" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --no-deps "torch==2.15.0"
  "$venv/bin/pip" install --quiet filelock typing-extensions sympy networkx jinja2 fsspec
  "$venv/bin/pip" install --quiet "transformers==5.23.0" "peft==0.21.2" zstandard safetensors numpy
fi
"$venv/bin/python" -c "import torch, transformers, peft; print(f'peer: torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}')"

bin=.build/release
model=models/smollm2-135m-instruct
work=work/bench/train
mkdir -p "$work"
if [ ! -d "$work/text-512" ]; then
  # Every sequence exactly 512 tokens, one document each: the corpus's texts cut into windows of 511
  # tokens (the tokenizer lf-tokenize matches; windows whose text does not re-encode to 511 tokens
  # are left out), each ending with the end-of-document token. Full sequences spare the peer the
  # padding it pays when a micro-batch mixes lengths, which lf-train does not, so the comparison is
  # the issue's "sequence length 512" for both.
  "$venv/bin/python" - "$shared" "$model" "$work/text-512.jsonl" <<'PY'
import json, pathlib, sys
from tokenizers import Tokenizer
shared, model, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
tokenizer = Tokenizer.from_file(f"{model}/tokenizer.json")
with open(out, "w", encoding="utf-8") as f:
    for path in sorted((shared / "corpus/dev").glob("*.ref.txt")):
        ids = tokenizer.encode(path.read_text(encoding="utf-8", errors="replace"), add_special_tokens=False).ids
        for i in range(0, len(ids) - 510, 511):
            text = tokenizer.decode(ids[i:i + 511])
            if len(tokenizer.encode(text, add_special_tokens=False).ids) == 511:
                f.write(json.dumps({"text": text}) + "\n")
PY
  "$bin/lf-tokenize" pack --tokenizer "$model" "$work/text-512.jsonl" --max-len 512 -o "$work/text-512" --quiet
fi
if [ ! -d "$work/instruction" ]; then
  "$bin/lf-format" "$shared/corpus/datasets/alpaca_en_demo.json" --quiet > "$work/alpaca.jsonl"
  "$bin/lf-tokenize" pack --tokenizer "$model" "$work/alpaca.jsonl" --max-len 512 --packing -o "$work/instruction" --quiet
fi

export OPENBLAS_NUM_THREADS=$threads
"$venv/bin/python" - "$steps" "$threads" "$model" "$work" "$venv/bin/python" "$bin" "$rounds" <<'PY'
import json, re, subprocess, sys, time
steps, threads, model, work, py, bin = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
rounds = int(sys.argv[7])
sys.path.insert(0, "scripts/bench")
from lf_shards import read_shards

config = json.load(open(f"{model}/config.json"))
C, L, H, KV, I, V = (config[k] for k in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                                          "intermediate_size", "vocab_size"))
hd = C // H
r, T, micro = 16, 512, 4
modules = [(C, H * hd), (C, KV * hd), (C, KV * hd), (H * hd, C), (C, I), (C, I), (I, C)]  # (in, out)

def useful_flops(sequences):
    """FLOPs of one step on these sequences (see the header)."""
    n = sum(len(s[0]) for s in sequences)
    trained = sum(sum(1 for k in range(1, len(s[0])) if s[1][k] and k not in s[2]) for s in sequences)
    frozen = L * sum(i * o for i, o in modules)
    # No input gradient into layer 0's q/k/v: no trained weight lies below them (neither tool computes it).
    first_qkv = sum(i * o for i, o in modules[:3])
    lora = L * sum(2 * r * (i + o) + 2 * r * (2 * i + 2 * o) for i, o in modules)
    pairs = sum((e - b) * (e - b + 1) // 2 for s in sequences for b, e in zip(s[2], s[2][1:] + [len(s[0])]))
    attention = L * H * hd * 2 * 2 * pairs * 3  # QKᵀ and PV forward, twice that backward
    return (4 * frozen - 2 * first_qkv) * n + lora * n + attention + 4 * V * C * trained

def run_lf(shards, out):
    cmd = [f"{bin}/lf-train", "-m", model, "--data", shards, "-o", out, "--max-steps", str(steps), "--micro-batch", str(micro),
           "--grad-accum", "1", "--lora-rank", str(r), "--lora-alpha", str(2 * r), "--lora-target", "all", "--lr", "1e-4",
           "--logging-steps", "1", "--save-steps", "100000", "--seed", "0", "--no-resume"]
    subprocess.run(["rm", "-rf", out])
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"lf-train failed:\n{p.stderr[-3000:]}")
    results = json.load(open(f"{out}/train_results.json"))
    peak = float(re.search(r"peak memory ([0-9.]+) GiB", p.stderr).group(1)) * 2**30
    # Seconds since the log's start at each step: its tokens over its throughput.
    log = [json.loads(line) for line in open(f"{out}/trainer_log.jsonl")]
    at = [(e["total_tokens"], e["total_tokens"] / e["throughput"]) for e in log if "throughput" in e]
    after = (at[-1][0] - at[0][0]) / (at[-1][1] - at[0][1]) if len(at) > 1 else None
    return results["train_tokens_per_second"], peak, after

def run_peer(shards):
    p = subprocess.run([py, "scripts/bench/peer_train.py", model, shards, str(steps), str(micro), str(threads), str(r)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"peer failed:\n{p.stderr[-3000:]}")
    result = json.loads(p.stdout.strip().splitlines()[-1])
    return result["tokens_per_second"], result["peak_rss_bytes"], result["tokens_per_second_after_step1"]

def sgemm_peak():
    """The best of OpenBLAS's own threads and lf's split (BLAS.parallelGemm) on each shape."""
    peak = 0.0
    for m, n, k in [(2048, 1536, 576), (2048, 576, 1536), (2048, 576, 576), (2048, 576, 49152), (2048, 49152, 576)]:
        out = subprocess.run([f"{bin}/lf-bench", "sgemm", str(m), str(n), str(k)], capture_output=True, text=True).stdout
        peak = max([peak] + [float(x) for x in re.findall(r"([0-9.]+) GFLOP/s", out)])
    return peak
def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2
# The shared machine's speed drifts by a fifth within minutes: each round measures the sgemm peak,
# then lf, then the peer, so that the ratios compare neighbours in time.
print(f"{'workload':12} {'lf tok/s':>9} {'peer tok/s':>10} {'speed':>6} {'lf GiB':>7} {'peer GiB':>8} {'memory':>7} {'lf GFLOP/s':>10} {'peak':>6} {'of peak':>7}")
after_step1 = []
for name, directory in (("text", "text-512"), ("instruction", "instruction")):
    shards = f"{work}/{directory}"
    sequences = read_shards(shards)
    # lf-train's steps take micro-batches in a shuffled order; FLOPs per token of the whole set.
    flops_per_token = useful_flops(sequences) / sum(len(s[0]) for s in sequences)
    rows, later = [], []
    for _ in range(rounds):
        peak_gflops = sgemm_peak()
        lf_tps, lf_peak, lf_after = run_lf(shards, f"{work}/out-{name}")
        peer_tps, peer_peak, peer_after = run_peer(shards)
        gflops = lf_tps * flops_per_token / 1e9
        rows.append((lf_tps, peer_tps, lf_tps / peer_tps, lf_peak, peer_peak, lf_peak / peer_peak, gflops, peak_gflops,
                     100 * gflops / peak_gflops))
        if lf_after and peer_after:
            later.append((lf_after, peer_after, lf_after / peer_after, lf_after * flops_per_token / 1e9, peak_gflops,
                          100 * lf_after * flops_per_token / 1e9 / peak_gflops))
    for table in (rows, later):
        if len(table) > 1:
            table.append(tuple(median([row[i] for row in table]) for i in range(len(table[0]))))
    for i, row in enumerate(rows):
        label = name if i == 0 else ("  median" if rounds > 1 and i == rounds else "")
        print(f"{label:12} {row[0]:9.1f} {row[1]:10.1f} {row[2]:5.2f}x {row[3] / 2**30:7.2f} {row[4] / 2**30:8.2f} "
              f"{row[5]:6.2f}x {row[6]:10.1f} {row[7]:6.1f} {row[8]:6.1f}%")
    after_step1.append((name, later))
print(f"\nthe steps after the first\n{'workload':12} {'lf tok/s':>9} {'peer tok/s':>10} {'speed':>6} {'lf GFLOP/s':>10} {'peak':>6} {'of peak':>7}")
for name, later in after_step1:
    for i, row in enumerate(later):
        label = name if i == 0 else ("  median" if rounds > 1 and i == rounds else "")
        print(f"{label:12} {row[0]:9.1f} {row[1]:10.1f} {row[2]:5.2f}x {row[3]:10.1f} {row[4]:6.1f} {row[5]:6.1f}%")
PY
