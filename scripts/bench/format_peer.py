#!/usr/bin/env python3
"""The Python peer of lf-format's benchmark: the same convert + validate + split, the way one
would write it with the standard library (json, hashlib), single-threaded.

Alpaca or ShareGPT JSON Lines in; canonical {"messages": [...]} lines out to train/eval/test files
chosen by a hash of the record, with exact dedup and the basic checks (strip, empty turns, role
order). It does less cleaning than lf-format (no NFC, control-character or blank-line rules).

usage: format_peer.py INPUT.jsonl OUTDIR [train eval test ratios, default 0.9 0.05 0.05]
"""
import hashlib
import json
import os
import sys

ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}


def convert(record):
    if "conversations" in record:
        messages = []
        turns = record["conversations"]
        if turns and turns[0]["from"] == "system":
            messages.append({"role": "system", "content": turns[0]["value"].strip()})
            turns = turns[1:]
        for i, turn in enumerate(turns):
            role = ROLES.get(turn["from"])
            if turn["from"] == "function_call":
                role = "assistant"
            elif turn["from"] == "observation":
                role = "user"
            if role is None or role != ("user" if i % 2 == 0 else "assistant"):
                raise ValueError("role order")
            messages.append({"role": role, "content": turn["value"].strip()})
        if len(turns) % 2:
            raise ValueError("ends with user")
        return messages
    prompt = "\n".join(p for p in (record["instruction"], record.get("input") or "") if p).strip()
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"].strip()}]


def main():
    path, out = sys.argv[1], sys.argv[2]
    ratios = [float(x) for x in sys.argv[3:6]] or [0.9, 0.05, 0.05]
    os.makedirs(out, exist_ok=True)
    files = [open(os.path.join(out, f"{name}.jsonl"), "w", encoding="utf-8") for name in ("train", "eval", "test")]
    seen = set()
    rejected = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            messages = convert(json.loads(line))
            if any(not m["content"] for m in messages):
                rejected += 1
                continue
            text = json.dumps({"messages": messages}, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
            if digest in seen:
                rejected += 1
                continue
            seen.add(digest)
            u = int.from_bytes(digest[:8], "big") / 2**64
            split = 0 if u < ratios[0] else (1 if u < ratios[0] + ratios[1] else 2)
            files[split].write(text + "\n")
    for f in files:
        f.close()
    print(f"peer: {len(seen)} written, {rejected} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
