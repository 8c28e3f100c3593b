#!/usr/bin/env bash
# The main job: the lf pipeline on the bundled sample data (samples/) with the default model
# (SmolLM2-135M-Instruct). Installs what it needs, builds, fetches the model, then runs each stage
# into work/ (git-ignored):
#
#   samples/docs ──lf-extract──▶ docs.jsonl ──lf-format --mode text──▶ pretrain.jsonl
#   samples/instructions.jsonl ──lf-format──▶ sft/train.jsonl, sft/eval.jsonl
#                              ──lf-tokenize pack──▶ shards/train, shards/eval
#   shards ──lf-train──▶ adapter/ (PEFT LoRA, logs, checkpoints)
#   (lf-merge, GGUF export: not built yet — listed and skipped)
#   eval prompts ──lf-eval generate (base, and with the adapter)──▶ answers.base.jsonl, answers.tuned.jsonl
#
# It fails if a stage that is built fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/fetch-model.sh

bin=.build/release
model=models/smollm2-135m-instruct
work=${LF_WORK:-work/pipeline}
rm -rf "$work"
mkdir -p "$work"
step() { echo "== $*" >&2; }

step "lf-extract: samples/docs → $work/docs.jsonl"
"$bin/lf-extract" samples/docs -o "$work/docs.jsonl" --quiet
echo "   $(wc -l < "$work/docs.jsonl") documents" >&2

step "lf-format: documents → continued-pre-training records, chunked by tokens"
"$bin/lf-format" "$work/docs.jsonl" --mode text --tokenizer "$model" --chunk-unit tokens --chunk-size 128 \
    --chunk-overlap 16 --quiet > "$work/pretrain.jsonl"
echo "   $(wc -l < "$work/pretrain.jsonl") text records" >&2

step "lf-format: samples/instructions.jsonl (Alpaca) → chat records, split 90/10"
"$bin/lf-format" samples/instructions.jsonl --split 0.9,0.1 -o "$work/sft" --quiet
echo "   train $(wc -l < "$work/sft/train.jsonl"), eval $(wc -l < "$work/sft/eval.jsonl") records" >&2

step "lf-tokenize pack: chat template + tokenizer → shards"
mkdir -p "$work/shards"
for split in train eval; do
  "$bin/lf-tokenize" pack --tokenizer "$model" "$work/sft/$split.jsonl" -o "$work/shards/$split" --quiet
done
"$bin/lf-tokenize" stats "$work/shards/train" | sed 's/^/   /' >&2

step "lf-train: LoRA r=8 on every linear module, 24 steps → $work/adapter"
"$bin/lf-train" -m "$model" --data "$work/shards/train" --eval-data "$work/shards/eval" -o "$work/adapter" \
    --lora-target all --lora-rank 8 --learning-rate 1e-3 --max-steps 24 --micro-batch 4 --grad-accum 1 \
    --logging-steps 4 --eval-steps 12 --save-steps 12 --quiet
python3 - "$work/adapter" <<'PY' >&2
import json, sys
for line in open(sys.argv[1] + "/trainer_log.jsonl"):
    r = json.loads(line)
    print("   step %3d  %s" % (r["current_steps"], "eval loss %.4f" % r["eval_loss"] if "eval_loss" in r else "loss %.4f" % r["loss"]))
PY

for stage in "lf-merge: adapter merge" "lf-gguf export: GGUF for llama.cpp/Ollama"; do
  step "${stage%%:*}: not built yet —${stage#*:}; skipped"
done

step "lf-eval generate: the base model and the tuned one answer the eval questions"
python3 - "$work/sft/eval.jsonl" > "$work/eval-prompts.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    messages = json.loads(line)["messages"]
    question = [m for m in messages if m["role"] != "assistant"]
    print(json.dumps({"messages": question, "question": question[-1]["content"],
                      "reference": next(m["content"] for m in messages if m["role"] == "assistant")}))
PY
"$bin/lf-eval" generate -m "$model" --max-new-tokens 64 "$work/eval-prompts.jsonl" > "$work/answers.base.jsonl"
"$bin/lf-eval" generate -m "$model" --adapter "$work/adapter" --max-new-tokens 64 "$work/eval-prompts.jsonl" > "$work/answers.tuned.jsonl"
python3 - "$work/answers.base.jsonl" "$work/answers.tuned.jsonl" <<'PY' >&2
import json, sys
for base, tuned in zip(open(sys.argv[1], encoding="utf-8"), open(sys.argv[2], encoding="utf-8")):
    b, t = json.loads(base), json.loads(tuned)
    print(f"   Q: {b['question']}\n   base:  {b['completion'][:160]}\n   tuned: {t['completion'][:160]}\n   reference: {b['reference']}")
PY
echo "== done: outputs in $work/" >&2
