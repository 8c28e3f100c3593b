"""Builds a deterministic plain-text benchmark corpus (one record per line, no CR) of about
SIZE bytes from the shared corpus: the tokenizer fixture texts, the reference texts of the
documents, and the LLaMA-Factory demo datasets, recombined 1-4 lines at a time with a fixed seed.

usage: make_text_corpus.py SHARED_DIR OUT SIZE_BYTES
"""
import glob
import json
import os
import random
import sys

shared, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = []
for line in open(os.path.join(shared, "fixtures/tokenizers/corpus.jsonl"), encoding="utf-8"):
    lines += [x for x in json.loads(line)["text"].split("\n") if x.strip()]
for path in sorted(glob.glob(os.path.join(shared, "corpus/dev/*.ref.txt"))):
    lines += [x for x in open(path, encoding="utf-8").read().split("\n") if x.strip()]
for name in ["alpaca_en_demo.json", "alpaca_zh_demo.json", "identity.json", "glaive_toolcall_en_demo.json"]:
    for record in json.load(open(os.path.join(shared, "corpus/datasets", name), encoding="utf-8")):
        for value in record.values():
            if isinstance(value, str):
                lines += [x for x in value.split("\n") if x.strip()]
lines = [x.replace("\r", " ") for x in lines]

rng = random.Random(1234)
written = 0
with open(out + ".part", "w", encoding="utf-8", newline="") as f:
    while written < size:
        text = " ".join(rng.choice(lines) for _ in range(rng.randint(1, 4)))
        f.write(text + "\n")
        written += len(text.encode("utf-8")) + 1
os.replace(out + ".part", out)
