#!/usr/bin/env bash
# Index the sample corpus and answer two sample questions (used by `make run`).
set -euo pipefail
exe=${1:?usage: demo.sh ASKDOCS DATA_DIR}
data=${2:?usage: demo.sh ASKDOCS DATA_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)

echo "== Indexing the sample corpus ($here/samples) into $data"
"$exe" index --data "$data" "$here/samples"
echo
q1="What notice period applies to termination for convenience?"
echo "== askdocs ask \"$q1\""
"$exe" ask --data "$data" "$q1"
echo
q2="근로자는 퇴직 예정일 며칠 전까지 회사에 통보해야 하나요?"
echo "== askdocs ask \"$q2\""
"$exe" ask --data "$data" "$q2"
cat <<TXT

== Your own documents
  $exe index --data ~/askdocs-index /path/to/your/folder
  $exe ask   --data ~/askdocs-index "your question"
  $exe search --data ~/askdocs-index --mode hybrid "words or a question"
See '$exe --help' and README.md.
TXT
