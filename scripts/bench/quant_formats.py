"""Block-quantisation formats for frozen weights, compared on a model's real matrices.

For every 2-D weight of a safetensors model this quantises each row in blocks of 32 with the
candidate formats (all with float16 scales, as llama.cpp stores them) and prints the RMS relative
error sqrt(sum (w - w')^2 / sum w^2) per group of matrices:

  q8_0   int8, d = max|w| / 127                          8.5 bits/weight (llama.cpp Q8_0)
  q4_0   4-bit, d = (signed max|w|) / -8, q in -8..7      4.5 bits (llama.cpp Q4_0)
  q4_1   4-bit, d = (max - min) / 15, min                5.0 bits (llama.cpp Q4_1)
  nf4    4-bit NormalFloat levels x max|w|               4.5 bits (QLoRA's NF4, blocks of 32)
  q4_1s  q4_1, then (d, m) refitted by least squares to the assignments of five other step sizes,
         the best kept (llama.cpp's make_qkx2_quants idea; lf's q4)   5.0 bits

SmolLM2-135M's linear weights came from a Q4_1 GGUF (blocks of 32 along the row): re-quantising
them with q4_1 on the same blocks is almost exact and says nothing about the format. So the
linears are also measured with blocks shifted by 16 columns (each block then straddles two of the
source's blocks), and the token embedding (from Q8_0, so effectively continuous at 4 bits) and
Gaussian noise are measured as well.

With --write DIR FORMAT it also writes a float32 copy of the model whose linear weights went
through FORMAT (the embedding rounded to bf16, as lf keeps it), for measuring the effect on the
loss with the float32 engine (`lf-bench loss DIR TEXT`).

With --shift the written copy's blocks start 16 columns into each row (wrapping round), so that
they straddle the source's Q4_1 blocks: the effect of each format on weights not already on its
grid.

usage: quant_formats.py MODEL_DIR [--write OUT_DIR FORMAT [--shift]]
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

BLOCK = 32
# bitsandbytes' NF4 levels (quantiles of N(0, 1) scaled to [-1, 1], with an exact 0).
NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], dtype=np.float32)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = np.frombuffer(data[a:b], dtype={"F32": np.float32, "BF16": np.uint16, "F16": np.float16}[info["dtype"]])
        if info["dtype"] == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        out[name] = raw.astype(np.float32).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def f16(x):
    return x.astype(np.float16).astype(np.float32)


def blocks(w):
    """(rows, cols) with cols % 32 == 0 → (rows * cols / 32, 32)."""
    return w.reshape(-1, BLOCK)


def q8_0(w):
    b = blocks(w)
    d = f16(np.abs(b).max(axis=1, keepdims=True) / 127)
    q = np.clip(np.rint(b / np.where(d == 0, 1, d)), -127, 127)
    return (q * d).reshape(w.shape)


def q4_0(w):
    b = blocks(w)
    idx = np.abs(b).argmax(axis=1)
    m = b[np.arange(len(b)), idx][:, None]
    d = f16(m / -8)
    q = np.clip(np.rint(b / np.where(d == 0, 1, d)), -8, 7)
    return (q * d).reshape(w.shape)


def q4_1(w):
    b = blocks(w)
    lo, hi = b.min(axis=1, keepdims=True), b.max(axis=1, keepdims=True)
    d, m = f16((hi - lo) / 15), f16(lo)
    q = np.clip(np.rint((b - m) / np.where(d == 0, 1, d)), 0, 15)
    return (q * d + m).reshape(w.shape)


def nf4(w):
    b = blocks(w)
    s = f16(np.abs(b).max(axis=1, keepdims=True))
    x = b / np.where(s == 0, 1, s)
    mids = (NF4[1:] + NF4[:-1]) / 2
    q = np.searchsorted(mids, x)
    return (NF4[q] * s).reshape(w.shape)


def q4_1s(w):
    b = blocks(w)
    lo, hi = b.min(axis=1, keepdims=True), b.max(axis=1, keepdims=True)
    best = q4_1(w).reshape(-1, BLOCK)
    best_err = ((b - best) ** 2).sum(axis=1)
    span = np.where(hi - lo == 0, 1, hi - lo)
    for step in [-0.5, -0.25, 0, 0.25, 0.5]:
        q = np.clip(np.rint((b - lo) * ((15 + step) / span)), 0, 15)
        n, sq, sqq = BLOCK, q.sum(axis=1, keepdims=True), (q * q).sum(axis=1, keepdims=True)
        sx, sqx = b.sum(axis=1, keepdims=True), (q * b).sum(axis=1, keepdims=True)
        det = n * sqq - sq * sq
        d = f16(np.where(det > 0, (n * sqx - sq * sx) / np.where(det > 0, det, 1), 0))
        m = f16((sx - d * sq) / n)
        y = np.clip(np.rint((b - m) / np.where(d > 0, d, 1)), 0, 15) * d + m
        err = ((b - y) ** 2).sum(axis=1)
        better = ((err < best_err) & (d[:, 0] > 0) & (hi[:, 0] > lo[:, 0]))
        best[better], best_err[better] = y[better], err[better]
    return best.reshape(w.shape)


FORMATS = {"q8_0": q8_0, "q4_0": q4_0, "q4_1": q4_1, "nf4": nf4, "q4_1s": q4_1s}


def main():
    args = sys.argv[1:]
    model = args[0]
    tensors = read_safetensors(os.path.join(model, "model.safetensors"))
    linears = {k: v for k, v in tensors.items() if v.ndim == 2 and "embed" not in k and "lm_head" not in k}
    embeds = {k: v for k, v in tensors.items() if v.ndim == 2 and "embed" in k}
    if "--write" in args:
        i = args.index("--write")
        write(model, tensors, linears, embeds, args[i + 1], args[i + 2], shift=16 if "--shift" in args else 0)
        return
    rng = np.random.default_rng(0)
    groups = {
        "linears (from Q4_1)": list(linears.values()),
        "linears, blocks shifted 16": [w[:, 16:-16] for w in linears.values()],
        "token embedding (from Q8_0)": list(embeds.values()),
        "gaussian 1024x1024": [rng.standard_normal((1024, 1024)).astype(np.float32)],
        "student-t(5) 1024x1024": [rng.standard_t(5, (1024, 1024)).astype(np.float32)],
    }
    print(f"RMS relative error, blocks of {BLOCK}, float16 scales ({model})")
    print(f"  {'matrices':30s} " + " ".join(f"{f:>8s}" for f in FORMATS))
    for name, ws in groups.items():
        row = []
        for fmt, fn in FORMATS.items():
            err = sum(float(((w - fn(w)) ** 2).sum(dtype=np.float64)) for w in ws)
            ref = sum(float((w.astype(np.float64) ** 2).sum()) for w in ws)
            row.append((err / ref) ** 0.5)
        print(f"  {name:30s} " + " ".join(f"{e:8.4f}" for e in row))


def write(model, tensors, linears, embeds, out, fmt, shift):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(model):
        if f != "model.safetensors":
            shutil.copy(os.path.join(model, f), out)
    written = {}
    for k, v in tensors.items():
        if k in linears:
            written[k] = np.roll(FORMATS[fmt](np.roll(v, -shift, axis=1)), shift, axis=1) if fmt != "none" else v
        elif k in embeds:
            written[k] = ((v.view(np.uint32) + 0x7FFF + ((v.view(np.uint32) >> 16) & 1)) >> 16 << 16).view(np.float32)
        else:
            written[k] = v
    write_safetensors(os.path.join(out, "model.safetensors"), written)
    print(f"wrote {out} with {fmt} linears" + (f", blocks shifted {shift}" if shift else ""))


if __name__ == "__main__":
    main()
