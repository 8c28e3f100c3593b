#!/usr/bin/env bash
# PDF text extraction speed, in pages per second, on the corpus PDFs: lf-extract (poppler-glib plus
# lf's clean-up) against pdftotext (poppler-utils, the same library without clean-up) and pypdf
# (pure Python, from PyPI in a venv this script creates), in one run.
#
#   bash scripts/bench/extract.sh            # 5 rounds, best round counts
#   ROUNDS=10 bash scripts/bench/extract.sh
#
# Every tool reads the same files: the corpus PDFs that pdftotext can read without a password (the
# truncated, scanned and user-password ones are left out, since they have no pages to time).
# Times are wall-clock for whole commands, start-up included: pdftotext runs once per file (as a
# shell loop would), lf-extract once for all files (--jobs 1, then --jobs 2), pypdf in one Python
# process that opens every file and calls extract_text() on every page.
set -euo pipefail
cd "$(dirname "$0")/../.."

shared="${LF_SHARED:-../shared}"
corpus="$shared/corpus/dev"
rounds="${ROUNDS:-5}"
[ -d "$corpus" ] || { echo "extract.sh: no corpus at $corpus (set LF_SHARED)" >&2; exit 1; }
command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null || {
  echo "extract.sh: pdftotext/pdfinfo missing: apt-get install poppler-utils" >&2; exit 1; }

if [ ! -x .build/release/lf-extract ] || [ -n "$(find Sources/Extraction Sources/lf-extract -newer .build/release/lf-extract -name '*.swift' | head -1)" ]; then
  echo "extract.sh: building lf-extract (release)" >&2
  swift build -c release --product lf-extract >&2
fi
lf=.build/release/lf-extract

venv=.build/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pypdf, cryptography" 2>/dev/null; then
  echo "extract.sh: creating $venv with pypdf" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "pypdf" "cryptography" >&2
fi

files=()
pages=0
for f in "$corpus"/*.pdf; do
  n=$(pdfinfo "$f" 2>/dev/null | awk '/^Pages:/ {print $2}') || true
  [ -n "${n:-}" ] && [ "$n" -gt 0 ] || continue
  pdftotext -q -l 1 "$f" /dev/null 2>/dev/null || continue
  files+=("$f")
  pages=$((pages + n))
done
echo "corpus: ${#files[@]} PDFs, $pages pages; best of $rounds rounds" >&2

now() { date +%s.%N; }
# best_time CMD… : the shortest wall time of $rounds runs, in seconds.
best_time() {
  local best=""
  for _ in $(seq "$rounds"); do
    local t0 t1 dt
    t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$best" ] || awk -v d="$dt" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$dt; fi
  done
  echo "$best"
}

run_pdftotext() { for f in "${files[@]}"; do pdftotext -q -enc UTF-8 "$f" - ; done; }
run_lf1() { "$lf" --quiet --jobs 1 "${files[@]}"; }
run_lf2() { "$lf" --quiet --jobs 2 "${files[@]}"; }
run_pypdf() {
  "$venv/bin/python" - "${files[@]}" <<'EOF'
import sys
from pypdf import PdfReader
for path in sys.argv[1:]:
    for page in PdfReader(path).pages:
        page.extract_text()
EOF
}

t_pdftotext=$(best_time run_pdftotext)
t_lf1=$(best_time run_lf1)
t_lf2=$(best_time run_lf2)
t_pypdf=$(best_time run_pypdf)

rate() { awk -v p="$pages" -v t="$1" 'BEGIN { printf "%.1f", p / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
pypdf_version=$("$venv/bin/python" -c "import pypdf; print(pypdf.__version__)")
printf '%-28s %8s %10s %s\n' "tool" "seconds" "pages/s" "vs pdftotext"
printf '%-28s %8.3f %10s %s\n' "pdftotext $(pdftotext -v 2>&1 | awk 'NR==1 {print $3}')" "$t_pdftotext" "$(rate "$t_pdftotext")" "1.00"
printf '%-28s %8.3f %10s %s\n' "lf-extract --jobs 1" "$t_lf1" "$(rate "$t_lf1")" "$(ratio "$t_pdftotext" "$t_lf1")"
printf '%-28s %8.3f %10s %s\n' "lf-extract --jobs 2" "$t_lf2" "$(rate "$t_lf2")" "$(ratio "$t_pdftotext" "$t_lf2")"
printf '%-28s %8.3f %10s %s\n' "pypdf $pypdf_version (Python)" "$t_pypdf" "$(rate "$t_pypdf")" "$(ratio "$t_pdftotext" "$t_pypdf")"
echo "(ratio > 1: faster than pdftotext; lf-extract --jobs 1 vs pypdf: $(ratio "$t_pypdf" "$t_lf1")x)"
