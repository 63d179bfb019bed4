#!/usr/bin/env bash
# bench/make_text_corpus.sh OUT_DIR MB
# Writes about MB megabytes of real English text for the search-latency
# bench: the compressed changelogs, NEWS and READMEs under /usr/share/doc,
# one .txt per file, in a stable order. Nothing is downloaded.
set -euo pipefail
out=${1:?usage: make_text_corpus.sh OUT_DIR MB}
mb=${2:-40}
mkdir -p "$out"
limit=$((mb * 1024 * 1024))
total=0
while IFS= read -r f; do
  name=$(printf '%s' "${f#/usr/share/doc/}" | tr '/' '_')
  name=${name%.gz}.txt
  zcat -- "$f" 2>/dev/null | iconv -f UTF-8 -t UTF-8 -c > "$out/$name" || true
  sz=$(stat -c %s "$out/$name")
  if [ "$sz" -lt 512 ]; then rm -f "$out/$name"; continue; fi
  total=$((total + sz))
  [ "$total" -ge "$limit" ] && break
done < <(find /usr/share/doc -type f -name '*.gz' \
           \( -name 'changelog*' -o -name 'NEWS*' -o -name 'README*' \) | LC_ALL=C sort)
echo "$(ls "$out" | wc -l) files, $((total / 1024 / 1024)) MB in $out"
