#!/bin/sh
# make_office_fixtures.sh OUTDIR - write the fixtures of test_extract_office
# from our own text: flat ODF (.fodt/.fods), HTML and CSV sources written
# here, converted to DOCX, PDF and XLSX by LibreOffice headless. Nothing
# generated is committed; the outputs live in the build tree.
#
# Idempotent: when every output exists and is newer than this script, it
# does nothing (LibreOffice start-ups cost seconds each, so conversions are
# batched per target format).
set -eu

OUT=${1:?usage: make_office_fixtures.sh OUTDIR}
SELF=$0
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

OUTPUTS="contract.docx statute.docx multipage.docx contract.pdf statute.pdf
multipage.pdf apache2.pdf apache2.expect encrypted.pdf book.xlsx page.html
euckr.html plain.html utf8.csv bom.csv cp949.csv utf16.csv data.tsv
semicolon.csv"

fresh=1
for f in $OUTPUTS; do
    if [ ! -s "$OUT/$f" ] || [ ! "$OUT/$f" -nt "$SELF" ]; then
        fresh=0
        break
    fi
done
if [ "$fresh" = 1 ]; then
    echo "office fixtures are up to date in $OUT"
    exit 0
fi

SRC="$OUT/src"
mkdir -p "$SRC"

# ------------------------------------------------------------ flat ODF text
fodt_head() { # $1 = dc:title
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta><dc:title>$1</dc:title></office:meta>
 <office:font-face-decls>
  <style:font-face style:name="NanumGothic" svg:font-family="NanumGothic"
   xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/>
 </office:font-face-decls>
 <office:styles>
  <style:style style:name="Standard" style:family="paragraph">
   <style:paragraph-properties style:text-autospace="none"/>
   <style:text-properties style:font-name="NanumGothic" fo:font-size="11pt"
    style:font-name-asian="NanumGothic" style:font-size-asian="11pt"/>
  </style:style>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1"
   style:family="paragraph" style:parent-style-name="Standard"
   style:next-style-name="Standard" style:default-outline-level="1">
   <style:paragraph-properties fo:margin-top="0.2in" fo:margin-bottom="0.1in"
    style:text-autospace="none"/>
   <style:text-properties fo:font-size="20pt" fo:font-weight="bold"
    style:font-size-asian="20pt" style:font-weight-asian="bold"/>
  </style:style>
  <style:style style:name="Heading_20_2" style:display-name="Heading 2"
   style:family="paragraph" style:parent-style-name="Standard"
   style:next-style-name="Standard" style:default-outline-level="2">
   <style:paragraph-properties fo:margin-top="0.15in" fo:margin-bottom="0.08in"
    style:text-autospace="none"/>
   <style:text-properties fo:font-size="16pt" fo:font-weight="bold"
    style:font-size-asian="16pt" style:font-weight-asian="bold"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:style style:name="PB" style:family="paragraph"
   style:parent-style-name="Standard">
   <style:paragraph-properties fo:break-before="page"/>
  </style:style>
  <text:list-style style:name="LB">
   <text:list-level-style-bullet text:level="1" text:bullet-char="•">
    <style:list-level-properties text:space-before="0.25in"
     text:min-label-width="0.25in"/>
   </text:list-level-style-bullet>
   <text:list-level-style-bullet text:level="2" text:bullet-char="◦">
    <style:list-level-properties text:space-before="0.5in"
     text:min-label-width="0.25in"/>
   </text:list-level-style-bullet>
  </text:list-style>
 </office:automatic-styles>
 <office:body><office:text>
EOF
}
fodt_tail() { printf ' </office:text></office:body>\n</office:document>\n'; }

{
    fodt_head "Software License Agreement"
    cat <<'EOF'
<text:h text:style-name="Heading_20_1" text:outline-level="1">Software License Agreement</text:h>
<text:p text:style-name="Standard">This Agreement is made on March 1, 2024 between Acme Corporation (the Licensor) and Beta Trading LLC (the Licensee). The Licensee may use the software only as described in this Agreement, and this sentence is deliberately long so that it wraps onto a second line when the page is laid out.</text:p>
<text:h text:style-name="Heading_20_2" text:outline-level="2">1. Definitions</text:h>
<text:p text:style-name="Standard">In this Agreement the following words have these meanings.</text:p>
<text:list text:style-name="LB">
 <text:list-item><text:p text:style-name="Standard">Software means the licensed program in object code form.</text:p></text:list-item>
 <text:list-item><text:p text:style-name="Standard">Documentation means the user manuals supplied with the Software.</text:p>
  <text:list><text:list-item><text:p text:style-name="Standard">Updates include patches and minor releases.</text:p></text:list-item></text:list>
 </text:list-item>
</text:list>
<text:h text:style-name="Heading_20_2" text:outline-level="2">2. Fees</text:h>
<text:p text:style-name="Standard">The Licensee shall pay the following fees.</text:p>
<table:table table:name="Fees">
 <table:table-column table:number-columns-repeated="3"/>
 <table:table-header-rows>
  <table:table-row>
   <table:table-cell office:value-type="string"><text:p>Item</text:p></table:table-cell>
   <table:table-cell office:value-type="string"><text:p>Amount</text:p></table:table-cell>
   <table:table-cell office:value-type="string"><text:p>Due date</text:p></table:table-cell>
  </table:table-row>
 </table:table-header-rows>
 <table:table-row>
  <table:table-cell office:value-type="string"><text:p>License fee</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>USD 10,000</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>2024-04-01</text:p></table:table-cell>
 </table:table-row>
 <table:table-row>
  <table:table-cell office:value-type="string"><text:p>Support fee</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>USD 2,000</text:p></table:table-cell>
  <table:table-cell office:value-type="string"><text:p>2024-05-01</text:p></table:table-cell>
 </table:table-row>
</table:table>
<text:h text:style-name="Heading_20_2" text:outline-level="2">3. Termination</text:h>
<text:p text:style-name="Standard">Either party may terminate this Agreement with thirty days written notice.</text:p>
EOF
    fodt_tail
} >"$SRC/contract.fodt"

{
    fodt_head "개인정보 보호법 시행령(예시)"
    cat <<'EOF'
<text:h text:style-name="Heading_20_1" text:outline-level="1">개인정보 보호법 시행령(예시)</text:h>
<text:h text:style-name="Heading_20_2" text:outline-level="2">제1장 총칙</text:h>
<text:p text:style-name="Standard">제1조(목적) 이 영은 「개인정보 보호법」에서 위임된 사항과 그 시행에 필요한 사항을 규정함을 목적으로 한다.</text:p>
<text:p text:style-name="Standard">제2조(정의) ① 이 영에서 사용하는 용어의 뜻은 다음과 같다.</text:p>
<text:p text:style-name="Standard">1. "개인정보처리자"란 업무를 목적으로 개인정보파일을 운용하기 위하여 스스로 또는 다른 사람을 통하여 개인정보를 처리하는 공공기관, 법인, 단체 및 개인 등을 말한다.</text:p>
<text:p text:style-name="Standard">2. "정보주체"란 처리되는 정보에 의하여 알아볼 수 있는 사람으로서 그 정보의 주체가 되는 사람을 말한다.</text:p>
<text:p text:style-name="Standard">② 제1항에도 불구하고 다른 법령에 특별한 규정이 있는 경우에는 그 법령에서 정하는 바에 따른다.</text:p>
<text:h text:style-name="Heading_20_2" text:outline-level="2">제2장 개인정보의 처리</text:h>
<text:p text:style-name="Standard">제3조(개인정보의 수집) 개인정보처리자는 2024년 3월 1일부터 정보주체의 동의를 받아 개인정보를 수집할 수 있다.</text:p>
EOF
    fodt_tail
} >"$SRC/statute.fodt"

# four pages with explicit page breaks; page 3 is left empty on purpose
{
    fodt_head "Multi-page Test"
    cat <<'EOF'
<text:p text:style-name="Standard">Page One Marker alpha. 첫 번째 쪽입니다.</text:p>
<text:p text:style-name="PB">Page Two Marker bravo. 두 번째 쪽입니다.</text:p>
<text:p text:style-name="PB"/>
<text:p text:style-name="PB">Page Four Marker delta. 네 번째 쪽입니다.</text:p>
EOF
    fodt_tail
} >"$SRC/multipage.fodt"

# ----------------------------------------------------- flat ODF spreadsheet
cell_s() { printf '<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell>' "$1"; }
cell_n() { printf '<table:table-cell office:value-type="float" office:value="%s"><text:p>%s</text:p></table:table-cell>' "$1" "$1"; }
{
    cat <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:body><office:spreadsheet>
  <table:table table:name="Revenue">
EOF
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s Quarter)" "$(cell_s Revenue)" "$(cell_s Note)"
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s Q1)" "$(cell_n 1200)" "$(cell_s '매출 증가')"
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s Q2)" "$(cell_n 1350.5)" "$(cell_s 'flat')"
    cat <<'EOF'
  </table:table>
  <table:table table:name="직원">
   <table:table-row><table:table-cell/></table:table-row>
EOF
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s 이름)" "$(cell_s 부서)" "$(cell_s 입사연도)"
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s 홍길동)" "$(cell_s 법무팀)" "$(cell_n 2019)"
    printf '<table:table-row>%s%s%s</table:table-row>\n' "$(cell_s 김영희)" "$(cell_s 재무팀)" "$(cell_n 2021)"
    cat <<'EOF'
  </table:table>
 </office:spreadsheet></office:body>
</office:document>
EOF
} >"$SRC/book.fods"

cp /usr/share/common-licenses/Apache-2.0 "$SRC/apache2.txt"

# ------------------------------------------------------------ conversions
LO="soffice --headless --norestore -env:UserInstallation=file://$OUT/lo-profile"
$LO --convert-to docx --outdir "$OUT" "$SRC/contract.fodt" "$SRC/statute.fodt" \
    "$SRC/multipage.fodt" >/dev/null
$LO --convert-to pdf --outdir "$OUT" "$SRC/contract.fodt" "$SRC/statute.fodt" \
    "$SRC/multipage.fodt" "$SRC/apache2.txt" >/dev/null
$LO --convert-to xlsx --outdir "$OUT" "$SRC/book.fods" >/dev/null
mkdir -p "$OUT/enc"
$LO --convert-to 'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"secret"}}' \
    --outdir "$OUT/enc" "$SRC/contract.fodt" >/dev/null
mv "$OUT/enc/contract.pdf" "$OUT/encrypted.pdf"
rmdir "$OUT/enc"

# the page of the Apache licence that really holds the patent clause, as
# poppler's own pdftotext sees it
n=$(pdfinfo "$OUT/apache2.pdf" | sed -n 's/^Pages: *//p')
page=0
i=1
while [ "$i" -le "$n" ]; do
    if pdftotext -f "$i" -l "$i" "$OUT/apache2.pdf" - |
        grep -q "Grant of Patent License"; then
        page=$i
        break
    fi
    i=$((i + 1))
done
[ "$page" -gt 0 ] || { echo "patent clause not found in apache2.pdf" >&2; exit 1; }
echo "$page $n" >"$OUT/apache2.expect"

# ------------------------------------------------------------------ HTML
cat >"$OUT/page.html" <<'EOF'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Data Processing Addendum</title>
<style>body { font-family: sans-serif } .noise { color: red }</style>
<script>var tracking = "SCRIPT NOISE"; document.write("<p>written</p>");</script>
</head><body>
<header><div class="logo">HEADER NOISE</div></header>
<nav><ul><li>NAV NOISE Home</li><li>About</li></ul></nav>
<aside>ASIDE NOISE related links</aside>
<main>
<h1>Data Processing Addendum</h1>
<p>This Addendum forms part of the Agreement
between the parties and applies from <b>1 March 2024</b>.</p>
<h2>Obligations of the Processor</h2>
<ul>
<li>Process personal data only on documented instructions.</li>
<li>Ensure confidentiality of authorised persons.
  <ul><li>Including contractors.</li></ul></li>
</ul>
<h3>Sub-processors</h3>
<table>
<tr><th>Name</th><th>Country</th><th>Purpose</th></tr>
<tr><td>CloudCo</td><td>Ireland</td><td>Hosting</td></tr>
<tr><td>MailCo</td><td>Korea</td><td>Email delivery</td></tr>
</table>
<blockquote>Quoted clause text.</blockquote>
<pre>Code   block   text</pre>
<div>Loose div text <span>with a span</span></div>
<form><input name="q"><p>FORM NOISE</p></form>
<noscript>NOSCRIPT NOISE</noscript>
<template><p>TEMPLATE NOISE</p></template>
</main>
<footer>FOOTER NOISE copyright</footer>
</body></html>
EOF

# no <main>: the body is the content; EUC-KR declared in a meta tag
printf '%s\n' '<html><head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr">' \
    '<title>공지사항</title></head><body>' \
    '<h1>개인정보 처리방침 변경 안내</h1>' \
    '<p>제1조(목적) 이 방침은 2024년 3월 1일부터 시행합니다.</p>' \
    '</body></html>' | iconv -f UTF-8 -t CP949 >"$OUT/euckr.html"

cat >"$OUT/plain.html" <<'EOF'
<html><body><nav>NAV NOISE</nav>
<div><h2>Plain Body Heading</h2><p>Body paragraph without a main element.</p>
<table><tr><td>k1</td><td>v1</td></tr><tr><td>k2</td><td>v2</td></tr></table>
</div></body></html>
EOF

# ------------------------------------------------------------------ CSV
printf 'Name,Address,Note\r\n"Kim, Minsu","Seoul, Korea","line one\r\nline two"\r\nLee,Busan,"He said ""hi"""\r\n' >"$OUT/utf8.csv"
printf '\357\273\277이름,주소\n홍길동,서울특별시 종로구\n' >"$OUT/bom.csv"
printf '이름,주소,금액\n홍길동,"서울특별시 종로구, 1층",1000\n김영희,부산광역시,2000\n' |
    iconv -f UTF-8 -t CP949 >"$OUT/cp949.csv"
{
    printf '\377\376'
    printf 'Item,Price\nUTF16 widget,42\n' | iconv -f UTF-8 -t UTF-16LE
} >"$OUT/utf16.csv"
printf 'Code\tDescription\tQty\nA-1\tBolts, steel\t100\nB-2\tNuts\t250\n' >"$OUT/data.tsv"
printf 'Year;Revenue;Profit\n2023;1000;100\n2024;1200;150\n' >"$OUT/semicolon.csv"

touch "$OUT"/*.docx "$OUT"/*.pdf "$OUT"/*.xlsx "$OUT/apache2.expect"
for f in $OUTPUTS; do
    [ -s "$OUT/$f" ] || { echo "fixture $f was not produced" >&2; exit 1; }
done
echo "office fixtures written to $OUT"
