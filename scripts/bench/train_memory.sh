#!/usr/bin/env bash
# Peak memory and speed of LoRA training on a 1B-parameter model (the issue: "a 1B-parameter model
# must train within 8 GiB with bf16 base weights").
#
# Makes a random Llama-3.2-1B-shaped model (scripts/bench/make_random_llama.py: hidden 2048, 16
# layers, 32/8 heads, intermediate 8192, vocab 128256, tied, bf16; numpy in .venv-bench), then runs
# `lf-bench train` on it: sequence length SEQ (512), micro-batches of each size in BATCHES ("1 4"),
# LoRA r = 16 on every linear module, every token trained, STEPS timed micro-batches after one
# warm-up (STEPS 0: one micro-batch, timed with its warm-up costs); bf16 base with and without
# --grad-checkpoint, then q8 and q4 with it. Each run is its own process, so each peak (VmHWM:
# weights, activations and any memory-mapped file pages still resident) is that configuration's.
#
# Measured with `scripts/bench/train_memory.sh 0` (2 cores shared with other jobs, load 4-5, so the
# tokens/s are rough), peak RSS in MiB / tokens/s:
#
#   micro-batch x 512   bf16          bf16 + ckpt   q8 + ckpt     q4 + ckpt
#   1                   3391 / 11.1   2700 / 9.3    1841 / 8.8    1435 / 9.7
#   4                   6109 / 13.3   3345 / 9.9    2474 / 10.4   2068 / 8.6
#
# Weights 2357 / 1487 / 1081 MiB (bf16 / q8 / q4; embedding bf16 in all), activations 801 MiB per
# 512 rows without checkpointing, 114 MiB with; q4's load takes ~30 s (quantisation).
# Since each layer keeps its normed inputs, roped q|k|v and MLP activation (nothing recomputed
# in the backward), micro-batch 4 in bf16 peaks at 8127 MiB without checkpointing (activations
# 5138 MiB) and 3563 MiB with it (activations 590 MiB), by the same `lf-bench train` runs; since
# attention also keeps its probabilities, 8881 MiB without checkpointing (`lf-bench train MODEL
# 512 4 0 --base-dtype bf16`, 2026-12-07; activations 7124 MiB, the probabilities counted at
# their capacity).
#
# usage: scripts/bench/train_memory.sh [STEPS]        (env: SEQ, BATCHES, LF_BENCH_VENV)
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-1}
seq=${SEQ:-512}
batches=${BATCHES:-1 4}
venv=${LF_BENCH_VENV:-.venv-bench}

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/pip" install --quiet numpy

model=work/bench/llama-1b-random
[ -f "$model/model.safetensors" ] || "$venv/bin/python" scripts/bench/make_random_llama.py "$model"

swift build -c release --product lf-bench >&2
bench=.build/release/lf-bench
limit=$((8 * 1024))
echo "LoRA r=16 (all linear) on $(basename "$model"), sequence $seq, $(nproc) cores; 8 GiB = $limit MiB"
verdict=""
run() {
  local line peak
  line=$("$bench" train "$model" "$seq" "$@")
  echo "$line"
  peak=$(sed -E 's/.* ([0-9]+) MiB at the end.*/\1/' <<<"$line")
  if [ "$3 $4 ${5:-}" = "--base-dtype bf16 --grad-checkpoint" ]; then
    verdict+="  micro-batch $1: peak $peak MiB, $([ "$peak" -le "$limit" ] && echo within || echo OVER) 8 GiB"$'\n'
  fi
}
for batch in $batches; do
  run "$batch" "$steps" --base-dtype bf16
  run "$batch" "$steps" --base-dtype bf16 --grad-checkpoint
  run "$batch" "$steps" --base-dtype q8 --grad-checkpoint
  run "$batch" "$steps" --base-dtype q4 --grad-checkpoint
done
echo "bf16 base with --grad-checkpoint:"
printf "%s" "$verdict"
