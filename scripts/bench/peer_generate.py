"""Prompt processing and decoding speed of a peer engine on the same prompt, same threads.

usage: peer_generate.py transformers MODEL_DIR PROMPT_FILE NEW_TOKENS THREADS
       peer_generate.py llamacpp MODEL.gguf PROMPT_FILE NEW_TOKENS THREADS
Prints one JSON line: {"prompt_tokens", "prompt_seconds", "new_tokens", "decode_seconds"}.
Decoding is greedy and does not stop at end-of-sequence.
"""
import json
import sys
import time

engine, model_path, prompt_file, new_tokens, threads = sys.argv[1:6]
new_tokens, threads = int(new_tokens), int(threads)
prompt = open(prompt_file, encoding="utf-8").read()

if engine == "transformers":
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    model.eval()
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.inference_mode():
        model(ids[:, :8])  # warm-up
        t0 = time.perf_counter()
        out = model(ids, use_cache=True)
        t1 = time.perf_counter()
        past = out.past_key_values
        token = out.logits[:, -1:].argmax(-1)
        t2 = time.perf_counter()
        for _ in range(new_tokens):
            out = model(token, past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = out.logits[:, -1:].argmax(-1)
        t3 = time.perf_counter()
    result = {"prompt_tokens": ids.shape[1], "prompt_seconds": t1 - t0, "new_tokens": new_tokens, "decode_seconds": t3 - t2}
elif engine == "llamacpp":
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=model_path, n_threads=threads, n_threads_batch=threads, n_ctx=2048, n_batch=1024,
                logits_all=False, verbose=False)
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False)
    llm.eval(ids[:8])
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(ids)
    t1 = time.perf_counter()
    token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    t2 = time.perf_counter()
    for _ in range(new_tokens):
        llm.eval([token])
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    t3 = time.perf_counter()
    result = {"prompt_tokens": len(ids), "prompt_seconds": t1 - t0, "new_tokens": new_tokens, "decode_seconds": t3 - t2}
else:
    sys.exit(f"unknown engine {engine}")
print(json.dumps(result))
