"""Reads an lf shard directory (format: Sources/Shared/Formats/Shards/ShardWriter.swift) into
lists of (ids, mask, document_starts), for the Python peers of the benchmarks. Needs `zstandard`."""
import io, json, os, struct

import zstandard


def read_shards(directory):
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    sequences = []
    for entry in manifest["files"]:
        path = os.path.join(directory, entry["name"] if isinstance(entry, dict) else entry)
        data = open(path, "rb").read()
        width = struct.unpack_from("<I", data, 20)[0]
        trailer = data[-32:]
        count, _, index_offset = struct.unpack_from("<QQQ", trailer, 0)
        assert trailer[24:] == b"LFSINDEX", path
        dctx = zstandard.ZstdDecompressor()
        for i in range(count):
            offset, size, tokens, documents, _ = struct.unpack_from("<QIIII", data, index_offset + 8 + 24 * i)
            payload = dctx.decompress(data[offset:offset + size])
            t, d = struct.unpack_from("<II", payload, 0)
            ids = list(struct.unpack_from("<%d%s" % (t, "H" if width == 2 else "I"), payload, 8))
            mask_bytes = payload[8 + t * width: 8 + t * width + (t + 7) // 8]
            mask = [(mask_bytes[k // 8] >> (k % 8)) & 1 == 1 for k in range(t)]
            starts = list(struct.unpack_from("<%dI" % d, payload, 8 + t * width + (t + 7) // 8))
            sequences.append((ids, mask, starts))
    return sequences


def plain_batch(torch, sequences):
    """For sequences of one document each: input_ids, labels and a 2-D padding mask, the inputs of
    transformers' ordinary (fastest) causal path; None when a sequence packs several documents."""
    if any(len(s[2]) != 1 for s in sequences):
        return None
    T = max(len(s[0]) for s in sequences)
    ids = torch.zeros((len(sequences), T), dtype=torch.long)
    labels = torch.full((len(sequences), T), -100, dtype=torch.long)
    mask = torch.zeros((len(sequences), T), dtype=torch.long)
    for b, (seq, trained, _) in enumerate(sequences):
        ids[b, :len(seq)] = torch.tensor(seq)
        mask[b, :len(seq)] = 1
        for k in range(1, len(seq)):
            if trained[k]:
                labels[b, k] = seq[k]
    return ids, labels, mask


def batch_tensors(torch, sequences):
    """input_ids, labels (−100 where nothing is trained), position_ids restarting per document, and
    a 4-D additive mask keeping attention inside each document (the maths lf-train does)."""
    T = max(len(s[0]) for s in sequences)
    B = len(sequences)
    ids = torch.zeros((B, T), dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    positions = torch.zeros((B, T), dtype=torch.long)
    mask = torch.full((B, 1, T, T), float("-inf"))
    for b, (seq, trained, starts) in enumerate(sequences):
        n = len(seq)
        ids[b, :n] = torch.tensor(seq)
        bounds = starts + [n]
        for s, e in zip(bounds[:-1], bounds[1:]):
            positions[b, s:e] = torch.arange(e - s)
            mask[b, 0, s:e, s:e] = torch.triu(torch.full((e - s, e - s), float("-inf")), diagonal=1)
            for k in range(s + 1, e):
                if trained[k]:
                    labels[b, k] = seq[k]
        for k in range(n, T):
            mask[b, 0, k, k] = 0
    return ids, labels, positions, mask
