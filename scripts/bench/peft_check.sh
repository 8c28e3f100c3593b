#!/usr/bin/env bash
# Interoperability: an adapter lf-train wrote, loaded by PEFT (PeftModel.from_pretrained), must mean
# the same thing there: the eval loss PEFT computes on the eval shards equals the one lf-train
# reported (relative 1e-4), and greedy answers of PEFT (transformers generate) and lf-eval agree.
# Trains SmolLM2 briefly on the bundled samples first: plain LoRA, DoRA, rsLoRA, and LoRA with
# modules trained in full (--additional-target embed_tokens,norm: PEFT's modules_to_save).
#
# usage: scripts/bench/peft_check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
bash scripts/fetch-model.sh
for tool in lf-format lf-tokenize lf-train lf-eval; do swift build -c release --product $tool >/dev/null; done
venv=.venv-bench
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import torch, transformers, peft, zstandard" 2>/dev/null; then
  "$venv/bin/pip" install --quiet "torch==2.13.0+cpu" 2>/dev/null || "$venv/bin/pip" install --quiet torch
  "$venv/bin/pip" install --quiet transformers peft zstandard safetensors numpy
fi
bin=.build/release
model=models/smollm2-135m-instruct
work=work/bench/peft-check
rm -rf "$work" && mkdir -p "$work/shards"
"$bin/lf-format" samples/instructions.jsonl --split 0.8,0.2 -o "$work/sft" --quiet
for split in train eval; do
  "$bin/lf-tokenize" pack --tokenizer "$model" "$work/sft/$split.jsonl" -o "$work/shards/$split" --quiet
done
for kind in "" "--use-dora" "--use-rslora" "--additional-target=embed_tokens,norm"; do
  out="$work/adapter${kind//[-=,]/_}"
  "$bin/lf-train" -m "$model" --data "$work/shards/train" --eval-data "$work/shards/eval" -o "$out" --lora-target all \
      --lora-rank 8 --learning-rate 2e-3 --max-steps 6 --micro-batch 4 --grad-accum 1 --eval-steps 6 --quiet $kind
  python3 - "$work/sft/eval.jsonl" > "$work/prompts.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    print(json.dumps({"messages": [m for m in json.loads(line)["messages"] if m["role"] != "assistant"]}))
PY
  "$bin/lf-eval" generate -m "$model" --adapter "$out" --max-new-tokens 24 --temperature 0 < "$work/prompts.jsonl" > "$out.lf-answers.jsonl"
  "$venv/bin/python" scripts/bench/peft_eval.py "$model" "$out" "$work/shards/eval" "$work/prompts.jsonl" > "$out.peft.json"
  "$venv/bin/python" - "$out" "$model" <<'PY'
import json, sys
from transformers import AutoTokenizer
out, model = sys.argv[1], sys.argv[2]
lf = json.load(open(out + "/eval_results.json"))["eval_loss"]
peft = json.load(open(out + ".peft.json"))
tok = AutoTokenizer.from_pretrained(model)
lf_answers = [json.loads(l)["completion"] for l in open(out + ".lf-answers.jsonl")]
peft_answers = [tok.decode([i for i in ids if i not in (tok.eos_token_id, 2)], skip_special_tokens=True) for ids in peft["greedy_ids"]]
same = sum(a.strip() == b.strip() or b.strip().startswith(a.strip()) and a.strip() != "" for a, b in zip(lf_answers, peft_answers))
rel = abs(lf - peft["eval_loss"]) / peft["eval_loss"]
saved = f"; {peft['modules_to_save']} modules_to_save loaded by PEFT" if peft["modules_to_save"] else ""
print(f"{out}: eval loss lf {lf:.6f}, PEFT {peft['eval_loss']:.6f} (relative {rel:.2e}); greedy answers equal {same}/{len(lf_answers)}{saved}")
sys.exit(0 if rel <= 1e-4 else 1)
PY
done
