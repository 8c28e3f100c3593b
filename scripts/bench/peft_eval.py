"""Loads an adapter that lf-train wrote with PEFT's PeftModel.from_pretrained and computes the mean
token loss over shards (the same batches and maths as lf-train's evaluation) and greedy answers,
printing JSON (with the number of modules the adapter replaces in full, its modules_to_save). With
no adapter, the base model's. Proves the adapter is PEFT's format and means the same thing to PEFT.

usage: peft_eval.py MODEL ADAPTER|- SHARDS PROMPTS.jsonl"""
import json, os, sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(__file__))
from lf_shards import batch_tensors, read_shards

model_dir, adapter, shards, prompts = sys.argv[1:5]
torch.set_num_threads(2)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
saved = 0
if adapter != "-":
    from peft import PeftModel
    from peft.utils import ModulesToSaveWrapper
    model = PeftModel.from_pretrained(model, adapter)
    # Modules the adapter replaces in full (modules_to_save): their count shows PEFT applied them.
    saved = sum(isinstance(m, ModulesToSaveWrapper) for m in model.modules())
model.eval()
total, count = 0.0, 0
with torch.no_grad():
    for s in read_shards(shards):
        ids, labels, positions, mask = batch_tensors(torch, [s])
        logits = model(input_ids=ids, position_ids=positions, attention_mask=mask).logits.float()
        target = labels[:, 1:]
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                 ignore_index=-100, reduction="sum")
        total += loss.item()
        count += int((target != -100).sum())
tokenizer = AutoTokenizer.from_pretrained(model_dir)
answers = []
for line in open(prompts, encoding="utf-8"):
    messages = json.loads(line)["messages"]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    out = model.generate(input_ids=ids, max_new_tokens=24, do_sample=False)
    answers.append(out[0, ids.shape[1]:].tolist())
print(json.dumps({"eval_loss": total / count, "tokens": count, "greedy_ids": answers, "modules_to_save": saved}))
