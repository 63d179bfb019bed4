#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [EVAL_SETS_DIR]
# Measures what README's "Figures" section reports, printing each command.
# Run on an otherwise idle machine; figures vary with load.
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR [EVAL_SETS_DIR]}
sets=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${ASKDOCS_CACHE:-$HOME/.cache/askdocs}
models=$cache/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
threads=${THREADS:-2}
say() { printf '\n$ %s\n' "$*"; }

say "time cmake --build (clean, our code only, 2 jobs)"
rm -rf "$tmp/b"
/usr/bin/time -f "build: %e s" bash -c "cmake -S '$here' -B '$tmp/b' -G Ninja -DASKDOCS_SANITIZERS=OFF >/dev/null && cmake --build '$tmp/b' -j2 >/dev/null"

say "$build/askdocs index --data DATA samples --format json"
"$build/askdocs" index -q --data "$tmp/samples" --format json "$here/samples"

printf '{"query": "What notice period applies to termination for convenience?"}\n{"query": "연차유급휴가는 며칠인가?"}\n{"query": "final dividend per share"}\n{"query": "대출 신청이 거절되면 정보는 언제 파기하나요?"}\n' > "$tmp/q.jsonl"
say "$build/bench_search DATA q.jsonl (samples)"
"$build/bench_search" "$tmp/samples" "$tmp/q.jsonl" 200 10

say "bench/make_pdf_corpus.sh CORPUS 1000  (LibreOffice: licences + Korean samples as PDF)"
bash "$here/bench/make_pdf_corpus.sh" "$tmp/corpus" 1000
say "$build/bench_index CORPUS/pdf DICT EMBED_MODEL 256"
"$build/bench_index" "$tmp/corpus/pdf" "$cache/dict/mecab-ko-dic" \
  "$models/multilingual-e5-small-q4_0.gguf" 256 2>/dev/null
say "time pdftotext over the same PDFs (poppler-utils, one process per file)"
/usr/bin/time -f "pdftotext: %e s" bash -c "for f in '$tmp'/corpus/pdf/*.pdf; do pdftotext -q \"\$f\" /dev/null; done"
say "/usr/bin/time askdocs index --data DATA CORPUS/pdf --format json  (peak RSS of the real indexer)"
/usr/bin/time -f "askdocs index: %e s, peak RSS %M KB" "$build/askdocs" index -q \
  --data "$tmp/pdfidx" --format json "$tmp/corpus/pdf"

if [ -n "$sets" ] && [ -d "$sets/korquad-dev" ]; then
  say "$build/askdocs index --data DATA korquad-dev/docs --format json"
  "$build/askdocs" index -q --data "$tmp/kq" --format json "$sets/korquad-dev/docs"
  say "$build/bench_search DATA korquad-dev/questions.jsonl 300 10"
  "$build/bench_search" "$tmp/kq" "$sets/korquad-dev/questions.jsonl" 300 10
fi

# search latency and approximate-index recall at >= 100k chunks: 13 MB of
# Debian changelogs in 32-token chunks without overlap (about 100k-115k
# chunks; embedding them takes 60-90 minutes on 2 cores)
say "bench/make_text_corpus.sh TEXT 13; ASKDOCS_INDEX_CHUNK_OVERLAP=0 askdocs index --data BIG --chunk-tokens 32 TEXT"
bash "$here/bench/make_text_corpus.sh" "$tmp/text" 13
ASKDOCS_INDEX_CHUNK_OVERLAP=0 "$build/askdocs" index -q --data "$tmp/big" \
  --chunk-tokens 32 --format json "$tmp/text"
"$build/askdocs" status --data "$tmp/big"
python3 "$here/bench/make_queries.py" "$tmp/big" 1000 7 > "$tmp/bigq.jsonl"
say "$build/bench_vectors BIG queries.jsonl 300 10 flat,hnsw"
GOMP_SPINCOUNT=1000 "$build/bench_vectors" "$tmp/big" "$tmp/bigq.jsonl" 300 10 flat,hnsw
say "bench_search BIG queries.jsonl 300 10  (warm-up on the next 300; plain FTS5 peer)"
GOMP_SPINCOUNT=1000 "$build/bench_search" "$tmp/big" "$tmp/bigq.jsonl" 300 10
say "the same with one embedding thread"
GOMP_SPINCOUNT=1000 ASKDOCS_EMBED_THREADS=1 BENCH_NO_PEER=1 \
  "$build/bench_search" "$tmp/big" "$tmp/bigq.jsonl" 300 10

# generation: time to first token with / without the prefix cache at about
# 500, 1,000 and 2,000 prompt tokens, 1/2/4 concurrent questions, and decode
# and prompt speed against llama-bench, which bench_gen runs itself (twice,
# interleaved with its own runs) so that both see the same environment;
# GOMP_SPINCOUNT=1000 as the askdocs binary sets for itself
for m in "$models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"; do
  say "GOMP_SPINCOUNT=1000 $build/bench_gen $(basename "$m") $threads 3 $cache/prefix/bin/llama-bench"
  GOMP_SPINCOUNT=1000 "$build/bench_gen" "$m" "$threads" 3 "$cache/prefix/bin/llama-bench"
done
