#!/usr/bin/env python3
"""Writes a large JSON Lines dataset for scripts/bench/format.sh, deterministically.

The records are LLaMA-Factory's demo datasets (../shared/corpus/datasets: alpaca_en_demo,
alpaca_zh_demo, identity in alpaca form; glaive_toolcall_en_demo in sharegpt form), repeated until
the file reaches the requested size. Each repetition tags the instruction (or first user turn) with
its round number, so every record is distinct and deduplication keeps them all.

usage: make_format_input.py DATASETS_DIR OUT.jsonl MEGABYTES {alpaca|sharegpt}
"""
import json
import sys


def main():
    datasets, out, megabytes, schema = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if schema == "alpaca":
        records = []
        for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json", "identity.json"):
            with open(f"{datasets}/{name}", encoding="utf-8") as f:
                records += json.load(f)
    else:
        with open(f"{datasets}/glaive_toolcall_en_demo.json", encoding="utf-8") as f:
            records = json.load(f)
    target = megabytes * 1_000_000
    written = 0
    round_number = 0
    with open(out, "w", encoding="utf-8") as f:
        while written < target:
            round_number += 1
            for record in records:
                r = json.loads(json.dumps(record))
                if schema == "alpaca":
                    r["instruction"] = f"{r['instruction']} (#{round_number})"
                else:
                    r["conversations"][0]["value"] = f"{r['conversations'][0]['value']} (#{round_number})"
                line = json.dumps(r, ensure_ascii=False) + "\n"
                f.write(line)
                written += len(line.encode("utf-8"))
                if written >= target:
                    break


if __name__ == "__main__":
    main()
