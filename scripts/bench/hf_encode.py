"""Encodes a file line by line with Hugging Face tokenizers (encode_batch, no special tokens added)
and writes the ids, space-separated, one line per input line — lf-tokenize encode's format.

usage: hf_encode.py TOKENIZER_JSON INPUT OUTPUT
"""
import sys

from tokenizers import Tokenizer

tokenizer = Tokenizer.from_file(sys.argv[1])
with open(sys.argv[2], encoding="utf-8", newline="") as f:
    lines = f.read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
encodings = tokenizer.encode_batch(lines, add_special_tokens=False)
with open(sys.argv[3], "w", encoding="utf-8") as f:
    for e in encodings:
        f.write(" ".join(map(str, e.ids)) + "\n")
