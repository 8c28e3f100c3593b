#!/usr/bin/env bash
# lf-format throughput: convert + validate + split of a large JSON Lines dataset on one core.
#
# Builds the release binary, writes a deterministic ≥ 100 MB JSONL input from LLaMA-Factory's demo
# datasets in ../shared/corpus/datasets (scripts/bench/make_format_input.py), times
#   lf-format INPUT --split 0.9,0.05,0.05 -o OUT        (exact dedup and cleaning on, the defaults)
# (best of 3 runs, pinned to one CPU with taskset when available) and prints MB/s of wall-clock time
# (which includes fsync of the outputs, as every run's atomic outputs do) and of CPU time for an
# Alpaca and a ShareGPT input. Then runs the same job with the Python standard-library peer
# (scripts/bench/format_peer.py) and prints the ratio. The target (issue #7) is ≥ 50 MB/s.
#
# Environment: LF_SHARED (default ../shared), BENCH_DIR (default /tmp/lf-bench-format),
# BENCH_MB (input size in MB, default 120), BENCH_PEER=0 to skip the Python peer.
set -euo pipefail
cd "$(dirname "$0")/../.."

shared=${LF_SHARED:-../shared}
datasets="$shared/corpus/datasets"
dir=${BENCH_DIR:-/tmp/lf-bench-format}
megabytes=${BENCH_MB:-120}
mkdir -p "$dir"

echo "building lf-format (release)…" >&2
swift build -c release --product lf-format >&2
bin="$(swift build -c release --show-bin-path)/lf-format"

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

calc() { awk "BEGIN { print $1 }"; }

for schema in alpaca sharegpt; do
  input="$dir/$schema-$megabytes.jsonl"
  if [ ! -s "$input" ]; then
    echo "writing $input…" >&2
    python3 scripts/bench/make_format_input.py "$datasets" "$input" "$megabytes" "$schema"
  fi
  bytes=$(stat -c %s "$input")
  mb=$(calc "$bytes / 1000000")
  read -r seconds cpu < <(python3 scripts/bench/best_time.py 3 "${pin[@]}" "$bin" "$input" --split 0.9,0.05,0.05 -o "$dir/out-$schema" --quiet)
  printf 'lf-format  %-8s %6.1f MB in %6.2f s wall: %6.1f MB/s  (CPU %5.2f s: %6.1f MB/s)\n' \
    "$schema" "$mb" "$seconds" "$(calc "$mb / $seconds")" "$cpu" "$(calc "$mb / $cpu")"
  "$bin" "$input" --split 0.9,0.05,0.05 -o "$dir/out-$schema" --json --quiet > "$dir/summary-$schema.json"
  if [ "${BENCH_PEER:-1}" != 0 ]; then
    read -r peer peercpu < <(python3 scripts/bench/best_time.py 1 "${pin[@]}" python3 scripts/bench/format_peer.py "$input" "$dir/peer-$schema")
    printf 'python     %-8s %6.1f MB in %6.2f s wall: %6.1f MB/s  (CPU %5.2f s)   lf-format is %.1f× faster\n' \
      "$schema" "$mb" "$peer" "$(calc "$mb / $peer")" "$peercpu" "$(calc "$peer / $seconds")"
  fi
done
