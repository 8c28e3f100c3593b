"""The PyTorch + PEFT peer of lf-train: LoRA on SmolLM2 in float32 on the same shards, micro-batches
and settings, timed the same way (tokens of the steps / wall time of the training loop, step 1
included). Prints one JSON line: tokens_per_second, peak_rss_bytes, steps, loss, and
tokens_per_second_after_step1 (the steps after the first, which pays for first allocations).

usage: peer_train.py MODEL SHARDS STEPS MICRO_BATCH THREADS RANK"""
import json, os, resource, sys, time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
from lf_shards import batch_tensors, plain_batch, read_shards

model_dir, shards, steps, micro, threads, rank = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)
sequences = read_shards(shards)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, task_type="CAUSAL_LM",
                                         target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
model.train()
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
tokens, losses = 0, []
start = time.perf_counter()
first = None  # (tokens, time) at the end of step 1
for step in range(steps):
    batch = [sequences[(step * micro + i) % len(sequences)] for i in range(micro)]
    plain = plain_batch(torch, batch)
    if plain is not None:
        # One document per sequence: transformers' ordinary causal path (its fastest).
        ids, labels, mask = plain
        out = model(input_ids=ids, labels=labels, attention_mask=mask)
    else:
        # Packed documents: a 4-D block-diagonal mask and positions restarting per document, as
        # LLaMA-Factory's neat_packing (the maths lf-train does).
        ids, labels, positions, mask = batch_tensors(torch, batch)
        out = model(input_ids=ids, labels=labels, position_ids=positions, attention_mask=mask)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    tokens += sum(len(s[0]) for s in batch)
    losses.append(out.loss.item())
    if first is None:
        first = (tokens, time.perf_counter())
elapsed = time.perf_counter() - start
after = (tokens - first[0]) / (start + elapsed - first[1]) if steps > 1 else None
print(json.dumps({"tokens_per_second": tokens / elapsed, "tokens_per_second_after_step1": after, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "steps": steps, "loss": losses[-1], "seconds": elapsed}))
