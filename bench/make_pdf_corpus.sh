#!/usr/bin/env bash
# bench/make_pdf_corpus.sh OUTDIR [MIN_PAGES]
# A PDF corpus of at least MIN_PAGES (default 1000) pages for the indexing
# benchmark: the legal texts in /usr/share/common-licenses and the Korean
# samples, converted by LibreOffice, copied under new names until the page
# count is reached.
set -euo pipefail
out=${1:?usage: make_pdf_corpus.sh OUTDIR [MIN_PAGES]}
min=${2:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/src" "$out/pdf"
if [ ! -f "$out/src/.done" ]; then
  for f in /usr/share/common-licenses/*; do
    [ -f "$f" ] && cp "$f" "$out/src/$(basename "$f").txt"
  done
  cp "$here"/samples/ko/*.txt "$here"/samples/ko/*.md "$out/src/" 2>/dev/null || true
  for f in "$out"/src/*.md; do [ -f "$f" ] && mv "$f" "${f%.md}.txt"; done
  soffice --headless "-env:UserInstallation=file://$out/lo-profile" \
    --convert-to pdf --outdir "$out/src" "$out"/src/*.txt >/dev/null 2>&1
  touch "$out/src/.done"
fi
pages_of() { pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}'; }
total=0
for f in "$out"/pdf/*.pdf; do [ -f "$f" ] && total=$((total + $(pages_of "$f"))); done
copy=0
while [ "$total" -lt "$min" ]; do
  copy=$((copy + 1))
  for f in "$out"/src/*.pdf; do
    cp "$f" "$out/pdf/c${copy}-$(basename "$f")"
    total=$((total + $(pages_of "$f")))
  done
done
echo "$out/pdf: $(ls "$out"/pdf | wc -l) PDFs, $total pages"
