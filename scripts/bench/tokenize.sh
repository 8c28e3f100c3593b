#!/usr/bin/env bash
# lf-tokenize encode against Hugging Face tokenizers on the same ~20 MB corpus with the SmolLM2
# tokenizer: lf on one thread and on every core, HF with RAYON_NUM_THREADS=1 and by default.
# Each command runs ROUNDS times in turn (A B C D A B C D …); the medians of whole-process wall
# times give MB/s and tokens/s, and the ratios lf/HF are printed, with whether the ids are identical.
#
# usage: scripts/bench/tokenize.sh [SIZE_MB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-20}
rounds=${2:-3}
shared=${LF_SHARED:-../shared}

LF_SKIP_BUILD=0 bash scripts/setup.sh
bash scripts/fetch-model.sh
venv=.venv-bench
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c "import tokenizers" 2>/dev/null || "$venv/bin/pip" install --quiet "tokenizers==0.23.3"

work=work/bench/tokenize
mkdir -p "$work"
corpus="$work/corpus-${size_mb}mb.txt"
[ -f "$corpus" ] || python3 scripts/bench/make_text_corpus.py "$shared" "$corpus" $((size_mb * 1000000))
model=models/smollm2-135m-instruct
lf=.build/release/lf-tokenize

python3 - "$corpus" "$rounds" "$model" "$lf" "$venv/bin/python" "$work" <<'PY'
import hashlib, os, statistics, subprocess, sys, time
corpus, rounds, model, lf, py, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
size = os.path.getsize(corpus)
cores = os.cpu_count()
runs = {
    "lf 1 thread":  ([lf, "encode", "-t", model, "--jobs", "1", "-q", corpus], {}),
    f"lf {cores} threads": ([lf, "encode", "-t", model, "--jobs", str(cores), "-q", corpus], {}),
    "HF 1 thread":  ([py, "scripts/bench/hf_encode.py", model + "/tokenizer.json", corpus], {"RAYON_NUM_THREADS": "1"}),
    "HF default":   ([py, "scripts/bench/hf_encode.py", model + "/tokenizer.json", corpus], {}),
}
times = {k: [] for k in runs}
digests = {}
for r in range(rounds):
    for name, (cmd, env) in runs.items():
        out = os.path.join(work, name.replace(" ", "_") + ".ids")
        e = dict(os.environ); e.update(env)
        t = time.time()
        if cmd[0] == lf:
            with open(out, "wb") as f: subprocess.run(cmd, stdout=f, env=e, check=True)
        else:
            subprocess.run(cmd + [out], env=e, check=True)
        times[name].append(time.time() - t)
        digests[name] = hashlib.sha256(open(out, "rb").read()).hexdigest()
tokens = sum(len(l.split()) for l in open(os.path.join(work, "lf_1_thread.ids")))
print(f"corpus: {corpus} ({size/1e6:.1f} MB, {tokens} tokens); {rounds} rounds, median whole-process wall time")
med = {k: statistics.median(v) for k, v in times.items()}
for name, t in med.items():
    print(f"  {name:14s} {t:6.2f} s  {size/t/1e6:6.2f} MB/s  {tokens/t/1e6:5.2f} M tokens/s   (runs: {', '.join(f'{x:.2f}' for x in times[name])})")
print(f"  lf/HF, one thread:  {med['HF 1 thread']/med['lf 1 thread']:.2f}x   (target >= 2x)")
print(f"  lf/HF, all cores:   {med['HF default']/med[f'lf {cores} threads']:.2f}x   (target >= 2x)")
same = len(set(digests.values())) == 1
print(f"  ids identical in all four: {'yes' if same else 'NO'}")
sys.exit(0 if same else 1)
PY
