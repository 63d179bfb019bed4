#!/bin/sh
# test_valgrind.sh ASKDOCS GEN_HWP OFFICE_FIXTURES SUPPRESSIONS
# The binary under valgrind's memcheck over real files of every format:
# index (BM25 only, to keep it fast), search with filters and access rules,
# extractive answers (evidence selection), status --check.
# Any memory error or definite leak fails the test.
set -eu
exe=$1 gen=$2 office=$3 supp=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs"
cp "$office"/*.pdf "$office"/*.docx "$office"/*.xlsx "$office"/*.csv \
   "$office"/*.html "$tmp/docs/"
"$gen" "$tmp/hwp" >/dev/null
cp "$tmp"/hwp/*.hwp "$tmp"/hwp/*.hwpx "$tmp/docs/"
printf '%s\n' '제1조(목적) 이 규정은 시험용이다.' '' '① 제3조에 따른다.' > "$tmp/docs/규정.md"
vg() {
  valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --suppressions="$supp" "$@"
}
export ASKDOCS_EMBED_MODEL=none
vg "$exe" index -q --data "$tmp/data" --format json "$tmp/docs" > "$tmp/summary.json"
grep -q '"failed":' "$tmp/summary.json"
printf '{"id":1,"query":"제3조 1,234,000"}\n{"id":2,"query":"termination notice"}\n{"id":3,"query":"\\"NEAR( *"}\n' |
  vg "$exe" search --data "$tmp/data" --mode bm25 --format jsonl > "$tmp/hits.jsonl"
test "$(wc -l < "$tmp/hits.jsonl")" -eq 3
vg "$exe" search --data "$tmp/data" --mode hybrid --type hwp --lang ko "제3조" > /dev/null
vg "$exe" search --data "$tmp/data" --readable default,other --path "" "termination" > /dev/null
vg "$exe" search --data "$tmp/data" --readable "" "termination" > /dev/null
printf '{"id":1,"question":"What is the notice period?"}\n{"id":2,"question":"제3조는?"}\n' |
  vg "$exe" ask --data "$tmp/data" --model none --format jsonl > "$tmp/answers.jsonl"
test "$(wc -l < "$tmp/answers.jsonl")" -eq 2
vg "$exe" status --data "$tmp/data" --check > "$tmp/status.txt"
grep -q "check       ok" "$tmp/status.txt"
echo "valgrind: index, search, ask and status are clean"
