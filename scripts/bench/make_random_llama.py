"""Writes a Llama model directory with random bf16 weights, shaped like Llama-3.2-1B by default:
hidden 2048, 16 layers, 32 heads, 8 kv heads, head_dim 64, intermediate 8192, vocab 128256, tied
embeddings (1.24 B parameters, 2.47 GB). config.json is in transformers' spelling; there is no
tokenizer (lf-bench train feeds random token ids).

Weights are N(0, 0.02) (norms 1), written tensor by tensor so that memory stays near one tensor.

usage: make_random_llama.py OUT_DIR [--layers N] [--hidden C] [--intermediate I] [--vocab V]
"""
import json
import os
import struct
import sys

import numpy as np


def main():
    args = sys.argv[1:]
    out = args[0]

    def opt(name, default):
        return int(args[args.index(name) + 1]) if name in args else default

    C, L, I, V = opt("--hidden", 2048), opt("--layers", 16), opt("--intermediate", 8192), opt("--vocab", 128256)
    H, KV, hd = 32, 8, 64
    if C != 2048:
        H, KV, hd = C // 64, max(1, C // 256), 64
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": C, "intermediate_size": I, "num_hidden_layers": L,
        "num_attention_heads": H, "num_key_value_heads": KV, "head_dim": hd, "vocab_size": V,
        "tie_word_embeddings": True, "rms_norm_eps": 1e-5, "hidden_act": "silu",
        "max_position_embeddings": 131072, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "attention_bias": False, "mlp_bias": False, "torch_dtype": "bfloat16",
        "bos_token_id": 128000, "eos_token_id": 128001,
    }
    shapes = [("model.embed_tokens.weight", (V, C))]
    for i in range(L):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", (C,)),
                   (p + "self_attn.q_proj.weight", (H * hd, C)), (p + "self_attn.k_proj.weight", (KV * hd, C)),
                   (p + "self_attn.v_proj.weight", (KV * hd, C)), (p + "self_attn.o_proj.weight", (C, H * hd)),
                   (p + "post_attention_layernorm.weight", (C,)),
                   (p + "mlp.gate_proj.weight", (I, C)), (p + "mlp.up_proj.weight", (I, C)), (p + "mlp.down_proj.weight", (C, I))]
    shapes.append(("model.norm.weight", (C,)))

    header, offset = {}, 0
    for name, shape in shapes:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    rng = np.random.default_rng(0)
    params = 0
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, shape in shapes:
            if len(shape) == 1:
                w = np.ones(shape, dtype=np.float32)
            else:
                w = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
            u = w.view(np.uint32)
            # float32 → bf16, round to nearest even (no NaNs here).
            f.write(((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes())
            params += w.size
    print(f"{out}: {params / 1e9:.3f} B parameters, {offset / 2**30:.2f} GiB of bf16")


if __name__ == "__main__":
    main()
