#!/usr/bin/env python3
"""End-to-end test of every document format through the real askdocs binary.

One folder holds the LibreOffice-made office fixtures (PDF, DOCX, XLSX, CSV,
HTML), the HWP 5 / HWPX files of gen_hwp, Debian's own legal texts, large
tables written here (so that tables are split across chunks) and hostile
files (truncated, encrypted, zip bombs, too large, random bytes, empty).
The test indexes it once with the real embedding model and checks what a
user sees: the JSON summary and its failure messages, status --check, the
documents the index holds, the top passage, page and heading of a query per
format in bm25 and hybrid mode, the filters, and re-indexing (unchanged,
updated, removed).

Run by ctest:
  test_formats.py --askdocs BIN --office-fixtures DIR --gen-hwp BIN
Prints one line per check and 'N passed, N failed' at the end; exit 1 on
any failure.
"""
import argparse
import io
import json
import os
import random
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zipfile
from xml.sax.saxutils import escape

from testlib import FAILS, Runner, check, finish



class Askdocs(Runner):
    def index(self, data, docs):
        rc, out, err = self.run("index", "--data", data, "--format", "json",
                                docs)
        lines = out.strip().splitlines()
        try:
            summary = json.loads(lines[-1]) if lines else {}
        except ValueError:
            summary = {}
        return rc, summary, err

    def search(self, data, mode, queries, filters=(), k=10):
        """One process for a batch of queries (hybrid mode loads the model
        at each start): returns {query: hits or None}."""
        lines = "".join(json.dumps({"id": i, "query": q}, ensure_ascii=False)
                        + "\n" for i, q in enumerate(queries))
        rc, out, err = self.run("search", "--data", data, "--mode", mode,
                                "--k", str(k), "--format", "jsonl", *filters,
                                stdin=lines.encode())
        res = {q: None for q in queries}
        if rc != 0:
            print(f"     search {mode} {filters} exited {rc}: {err[-500:]}")
            return res
        for line in out.splitlines():
            if line.strip():
                row = json.loads(line)
                if isinstance(row.get("id"), int) and "error" not in row:
                    res[queries[row["id"]]] = row["hits"]
        return res


# ------------------------------------------------------------- fixtures
# Minimal OOXML packages written here: a table long enough to be split into
# several chunks must come back with its header row in every chunk.
CT_RELS = ('<Default Extension="rels" ContentType="application/'
           'vnd.openxmlformats-package.relationships+xml"/>'
           '<Default Extension="xml" ContentType="application/xml"/>')
PKG_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="%s"/>'
            '</Relationships>')


def write_xlsx(path, sheet, header, rows):
    def cell(ref, v):
        return (f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t>'
                f'</is></c>')
    data = []
    for r, row in enumerate([header] + rows, start=1):
        data.append(f'<row r="{r}">' + "".join(
            cell(f"{chr(65 + i)}{r}", v) for i, v in enumerate(row)) + "</row>")
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http:'
                   '//schemas.openxmlformats.org/package/2006/content-types">'
                   + CT_RELS + '<Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument'
                   '.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                   'worksheets/sheet1.xml" ContentType="application/vnd.'
                   'openxmlformats-officedocument.spreadsheetml.worksheet+xml"'
                   '/></Types>')
        z.writestr("_rels/.rels", PKG_RELS % "xl/workbook.xml")
        z.writestr("xl/workbook.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                   f'2006/relationships"><sheets><sheet name="{sheet}" '
                   'sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships '
                   'xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://'
                   'schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}>'
                   f'<sheetData>{"".join(data)}</sheetData></worksheet>')


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def w_p(text, style=None):
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return (f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{escape(text)}</w:t>'
            f'</w:r></w:p>')


def write_docx(path, body_xml, document_xml=None):
    doc = document_xml if document_xml is not None else (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document {W_NS}><w:body>{body_xml}</w:body></w:document>')
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles {W_NS}>'
              '<w:style w:type="paragraph" w:styleId="Heading1"><w:name '
              'w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr>'
              '</w:style><w:style w:type="paragraph" w:styleId="Heading2">'
              '<w:name w:val="heading 2"/><w:pPr><w:outlineLvl w:val="1"/>'
              '</w:pPr></w:style></w:styles>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                         compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http:'
                   '//schemas.openxmlformats.org/package/2006/content-types">'
                   + CT_RELS + '<Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument'
                   '.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", PKG_RELS % "word/document.xml")
        z.writestr("word/_rels/document.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships '
                   'xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://'
                   'schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/styles" Target="styles.xml"/>'
                   '</Relationships>')
        z.writestr("word/styles.xml", styles)
        z.writestr("word/document.xml", doc)


def docx_table(header, rows):
    def tr(cells, hdr):
        trpr = "<w:trPr><w:tblHeader/></w:trPr>" if hdr else ""
        return ("<w:tr>" + trpr + "".join(f"<w:tc>{w_p(str(c))}</w:tc>"
                                          for c in cells) + "</w:tr>")
    return ("<w:tbl>" + tr(header, True) + "".join(tr(r, False) for r in rows)
            + "</w:tbl>")


def zip_bomb_docx(path, lie):
    """word/document.xml of 50 MB of spaces (~50 KB compressed). With lie,
    the sizes in the local header and central directory claim 4 KB, so only
    a reader that counts what it really inflates stops it."""
    head = ('<?xml version="1.0"?><w:document ' + W_NS + '><w:body><w:p><w:r>'
            '<w:t>')
    tail = "</w:t></w:r></w:p></w:body></w:document>"
    xml = head + " " * (50 << 20) + tail
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns='
                   '"http://schemas.openxmlformats.org/package/2006/'
                   'content-types"/>')
        z.writestr("_rels/.rels", PKG_RELS % "word/document.xml")
        z.writestr("word/document.xml", xml)
    data = bytearray(buf.getvalue())
    if lie:
        real = struct.pack("<I", len(xml))
        i = data.find(real)
        while i >= 0:
            data[i:i + 4] = struct.pack("<I", 4096)
            i = data.find(real, i + 4)
    with open(path, "wb") as f:
        f.write(bytes(data))


N_ROWS = 60


def write_own_fixtures(d):
    """Files whose text only this test knows: markdown with a heading path
    and an English date, and three tables too long for one chunk."""
    os.makedirs(d)
    with open(os.path.join(d, "lease-memo.md"), "w") as f:
        f.write("# Lease Memo\n\nSigned on July 15, 1999 by both parties.\n\n"
                "## 3. Term\n\nThe lease runs for ten years from signing.\n\n"
                "## 4. Rent Review\n\nThe rent is reviewed every thirty-six "
                "months by an independent surveyor named Quillfeather, whose "
                "valuation binds both parties.\n\n## 5. Repairs\n\nThe tenant "
                "keeps the interior in good repair.\n")
    write_xlsx(os.path.join(d, "ledger.xlsx"), "Ledger",
               ["Invoice", "Customer", "Amount", "Region"],
               [[f"INV{7000 + i}", f"Customer {i}", f"{(i * 37) % 1000}.00 EUR",
                 ["North", "South", "East", "West"][i % 4]]
                for i in range(N_ROWS)])
    body = (w_p("Instalment Agreement", "Heading1") +
            w_p("1. Payment Schedule", "Heading2") +
            w_p("The instalments below are due on the dates shown.") +
            docx_table(["Instalment", "Due date", "Amount", "Account"],
                       [[f"Instalment {i + 1}", f"2031-{1 + i % 12:02d}-15",
                         f"USD {1000 + i * 25}", f"ACC{5000 + i}"]
                        for i in range(N_ROWS)]))
    write_docx(os.path.join(d, "schedule.docx"), body)
    # a CSV in CP949, as Korean spreadsheets still export it, named in Korean
    rows = "".join(f"{1000 + i},임차인{i},{300 + 7 * i}만원,"
                   f"2030-{1 + i % 12:02d}-01\n" for i in range(N_ROWS))
    with open(os.path.join(d, "임대료_내역.csv"), "wb") as f:
        f.write(("호실,임차인,월세,계약일\n" + rows).encode("cp949"))


def write_hostile(d, office):
    os.makedirs(d)
    rnd = random.Random(20240301)  # reproducible garbage
    with open(os.path.join(office, "contract.pdf"), "rb") as f:
        pdf = f.read()
    with open(os.path.join(d, "truncated.pdf"), "wb") as f:
        f.write(pdf[:len(pdf) * 6 // 10])
    zip_bomb_docx(os.path.join(d, "bomb.docx"), lie=False)
    zip_bomb_docx(os.path.join(d, "lying-bomb.docx"), lie=True)
    # 2 MB of text against max_file_mb = 1
    with open(os.path.join(d, "big.txt"), "w") as f:
        line = "The parties agree that this sentence repeats. " * 40 + "\n"
        while f.tell() < 2 << 20:
            f.write(line)
    for ext in ("pdf", "docx", "xlsx", "hwp"):
        with open(os.path.join(d, "garbage." + ext), "wb") as f:
            f.write(rnd.randbytes(30000))
    open(os.path.join(d, "empty.docx"), "wb").close()


# Why a bad file failed, as its message must say.
R_CORRUPT = r"corrupt|truncat|damaged|not a valid|not a readable|not an HWP"
R_ENCRYPTED = r"password|encrypt"
R_BOMB = r"bomb"
R_TOOBIG = r"over the limit|too large"
R_EMPTY = r"empty|not a Word document|" + R_CORRUPT
# the setting a user raises to index a file refused by a limit
LIMIT_KEY = {R_BOMB: "index.max_expand_mb", R_TOOBIG: "index.max_file_mb"}


def norm(s):
    return re.sub(r"\s+", "", s)


class Pdf:
    """Page texts of a PDF as poppler's own pdftotext sees them, the
    reference for the page numbers askdocs cites."""

    def __init__(self, path):
        self.pages = []
        exe = shutil.which("pdftotext")
        if not exe:
            return
        info = subprocess.run(["pdfinfo", path], capture_output=True,
                              text=True).stdout
        m = re.search(r"^Pages:\s*(\d+)", info, re.M)
        for n in range(1, int(m.group(1)) + 1 if m else 1):
            p = subprocess.run([exe, "-f", str(n), "-l", str(n), path, "-"],
                               capture_output=True)
            self.pages.append(p.stdout.decode("utf-8", "replace"))

    def page_of(self, needle):
        for i, t in enumerate(self.pages):
            if norm(needle) in norm(t):
                return i + 1
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--askdocs", required=True)
    ap.add_argument("--office-fixtures", required=True)
    ap.add_argument("--gen-hwp", required=True)
    ap.add_argument("--keep", action="store_true",
                    help="leave the temporary folder for inspection")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="askdocs-formats-")
    env = {k: v for k, v in os.environ.items()
           if not re.match(r"ASKDOCS_(CONFIG$|INDEX_|EMBED_|SEARCH_|GENERATE_)",
                           k)}
    # limits small enough for the hostile files, large enough for the rest;
    # every run uses the same ones (else big.txt would be added later)
    env["ASKDOCS_INDEX_MAX_EXPAND_MB"] = "8"
    env["ASKDOCS_INDEX_MAX_FILE_MB"] = "1"
    a = Askdocs(os.path.abspath(args.askdocs), env)
    docs = os.path.join(tmp, "docs")
    data = os.path.join(tmp, "data")
    try:
        run(a, args, docs, data)
    finally:
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def run(a, args, docs, data):
    office_src = args.office_fixtures
    os.makedirs(docs)
    docs = os.path.realpath(docs)  # failure paths are absolute and real

    # ------------------------------------------------------ the folder
    office = os.path.join(docs, "office")
    os.makedirs(office)
    office_exts = (".pdf", ".docx", ".xlsx", ".csv", ".tsv", ".html")
    for name in sorted(os.listdir(office_src)):
        src = os.path.join(office_src, name)
        if os.path.isfile(src) and name.endswith(office_exts):
            shutil.copy(src, os.path.join(office, name))
    check(os.path.exists(os.path.join(office, "contract.pdf")) and
          os.path.exists(os.path.join(office, "encrypted.pdf")),
          "office fixtures present", os.listdir(office))
    lic = os.path.join(docs, "licenses")
    os.makedirs(lic)
    shutil.copy("/usr/share/common-licenses/Apache-2.0",
                os.path.join(lic, "Apache-2.0.txt"))
    have_apache_pdf = os.path.exists(os.path.join(office, "apache2.pdf"))
    write_own_fixtures(os.path.join(docs, "own"))
    write_hostile(os.path.join(docs, "hostile"), office)

    hwp_dir = os.path.join(docs, "hwp")
    have_hwp = False
    if os.access(args.gen_hwp, os.X_OK):
        os.makedirs(hwp_dir)
        p = subprocess.run([args.gen_hwp, hwp_dir], capture_output=True)
        have_hwp = p.returncode == 0 and \
            os.path.exists(os.path.join(hwp_dir, "statute.hwp"))
        check(have_hwp, "gen_hwp writes the HWP fixtures",
              p.stderr.decode("utf-8", "replace")[-500:])
        if not have_hwp:
            shutil.rmtree(hwp_dir)
    else:
        print(f"     (no gen_hwp at {args.gen_hwp}: HWP checks skipped)")

    # what each file is: a format type, or why it must fail
    bad = {
        "office/encrypted.pdf": R_ENCRYPTED,
        "hostile/truncated.pdf": R_CORRUPT,
        "hostile/bomb.docx": R_BOMB,
        "hostile/lying-bomb.docx": R_BOMB,
        "hostile/big.txt": R_TOOBIG,
        "hostile/garbage.pdf": R_CORRUPT,
        "hostile/garbage.docx": R_CORRUPT,
        "hostile/garbage.xlsx": R_CORRUPT,
        "hostile/garbage.hwp": R_CORRUPT,
        "hostile/empty.docx": R_EMPTY,
    }
    if have_hwp:
        for name, why in (("encrypted.hwp", R_ENCRYPTED),
                          ("distribution.hwp", r"distribution|배포용"),
                          ("encrypted.hwpx", R_ENCRYPTED),
                          ("truncated.hwp", R_CORRUPT),
                          ("bomb.hwp", R_BOMB),
                          ("garbage.hwp", R_CORRUPT)):
            if os.path.exists(os.path.join(hwp_dir, name)):
                bad["hwp/" + name] = why
        # files gen_hwp may add later have no expectations here yet
        known = {"statute.hwp", "statute-raw.hwp", "statute.hwpx"} | \
            {os.path.basename(b) for b in bad if b.startswith("hwp/")}
        for name in sorted(set(os.listdir(hwp_dir)) - known):
            print(f"     (hwp/{name} from gen_hwp is not used)")
            os.remove(os.path.join(hwp_dir, name))
    good = {}
    for root, _, files in os.walk(docs):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), docs)
            if rel not in bad and doc_type(rel):
                good[rel] = doc_type(rel)
    print(f"     {len(good)} good files, {len(bad)} bad files")

    # ---------------------------------------------------------- index
    rc, s, err = a.index(data, docs)
    check(rc == 0, "index exits 0 despite the bad files", err[-2000:])
    check(s.get("files") == len(good) + len(bad) and
          s.get("added") == len(good) and s.get("failed") == len(bad) and
          s.get("updated") == 0 and s.get("removed") == 0,
          f"summary: {len(good)} added, {len(bad)} failed",
          {k: v for k, v in s.items() if k != "failures"})
    failures = {}
    for fl in s.get("failures", []):
        failures[os.path.relpath(fl.get("path", ""), docs)] = fl.get("error", "")
    check(set(failures) == set(bad), "failures name exactly the bad files",
          f"extra {set(failures) - set(bad)} missing {set(bad) - set(failures)}")
    for rel, why in sorted(bad.items()):
        msg = failures.get(rel, "")
        check(re.search(why, msg, re.I) is not None and "\n" not in msg and
              os.path.basename(rel) in msg,
              f"{rel} fails saying why (/{why}/)", repr(msg))
        check(msg and msg in err, f"{rel}: the failure is on stderr too")
        if why != R_ENCRYPTED:
            # a damaged file reported as protected would send users looking
            # for a password
            check(not re.search(r"password", msg, re.I),
                  f"{rel}: not reported as password-protected", repr(msg))
        if why in LIMIT_KEY:
            check(LIMIT_KEY[why] in msg,
                  f"{rel}: the message names the setting {LIMIT_KEY[why]}",
                  repr(msg))
    check(s.get("chunks", 0) > len(good), "chunks written", s.get("chunks"))
    # the empty third page of multipage.pdf is reported, the file indexed
    warns = {os.path.relpath(w.get("path", ""), docs): w.get("warning", "")
             for w in s.get("warnings", [])}
    check("no text layer" in warns.get("office/multipage.pdf", "") and
          "1 of 4 pages" in warns.get("office/multipage.pdf", ""),
          "a PDF page without text is reported as a warning", warns)
    check("office/multipage.pdf" in err and "warning: " in err,
          "the warning is on stderr too")

    rc, out, err = a.run("status", "--data", data, "--check", "--format",
                         "json")
    st = json.loads(out) if rc == 0 and out.strip() else {}
    check(rc == 0 and st.get("consistent") is True and
          st.get("documents") == len(good) and
          st.get("chunks") == s.get("chunks") and
          st.get("embeddings") == st.get("chunks") and
          st.get("vectors") == st.get("chunks"),
          "status --check: consistent, one document per good file, a vector "
          "per chunk", (rc, out[-600:], err[-600:]))

    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    rows = db.execute("select rel, type, n_chunks from documents").fetchall()
    types = {r[0]: r[1] for r in rows}
    check(set(types) == set(good),
          "the index holds the good files and nothing of a failed one",
          f"extra {set(types) - set(good)} missing {set(good) - set(types)}")
    wrong = {k: (v, good[k]) for k, v in types.items()
             if k in good and v != good[k]}
    check(not wrong, "every document has its format's type", wrong)
    empty = [r[0] for r in rows if r[2] < 1]
    check(not empty, "every good document has chunks", empty)

    # ------------------------------------------------------- searches
    pdfs = {rel: Pdf(os.path.join(docs, rel)) for rel in good
            if rel.endswith(".pdf")}
    check(all(p.pages for p in pdfs.values()),
          "pdftotext gives the reference page texts")
    searches = Searches(a, data)
    cases = format_cases(pdfs, have_apache_pdf, have_hwp)
    hostile_q = "NOISE"
    ko_docs = {r for r in good if r.startswith(("hwp/",)) or r in (
        "office/statute.docx", "office/statute.pdf", "office/euckr.html",
        "office/cp949.csv", "office/bom.csv", "own/임대료_내역.csv")}
    mixed = {"office/multipage.docx", "office/multipage.pdf",
             "office/book.xlsx"}
    en_docs = set(good) - ko_docs - mixed
    mixed_q = "2024 개인정보 agreement license 임차인"
    date_cases = [
        # (after, before, query, documents whose dates lie in the range)
        ("2024-04-15", "2024-12-31", "fees agreement 개인정보 2024",
         {"office/contract.docx", "office/contract.pdf"}),
        (None, "2000-01-01", "rent review lease agreement",
         {"own/lease-memo.md"}),
        ("2031-01-01", None, "instalment amount agreement",
         {"own/schedule.docx"}),
    ]
    type_filters = [("pdf", (".pdf",)), ("csv", (".csv", ".tsv"))]
    if have_hwp:
        type_filters += [("hwp", (".hwp",)), ("hwpx", (".hwpx",))]
    for mode in ("bm25", "hybrid"):
        for c in cases:
            searches.want(mode, (), c["q"])
            if c.get("type"):
                searches.want(mode, ("--type", c["type"]), c["q"])
        for t, _ in type_filters:
            searches.want(mode, ("--type", t), mixed_q)
        searches.want(mode, ("--lang", "ko"), mixed_q)
        searches.want(mode, ("--lang", "en"), mixed_q)
        for after, before, q, _ in date_cases:
            searches.want(mode, date_filter(after, before), q)
    searches.want("bm25", (), hostile_q)
    searches.run()

    texts = dict(db.execute("select d.rel, t.text from doc_text t join "
                            "documents d on d.id = t.doc_id"))
    for mode in ("bm25", "hybrid"):
        for c in cases:
            check_case(searches, mode, c, db)
        for t, exts in type_filters:
            hits = searches.get(mode, ("--type", t), mixed_q)
            check(hits and all(h["doc"].endswith(exts) for h in hits),
                  f"{mode}: --type {t} returns only {t} documents",
                  docs_of(hits))
        hits = searches.get(mode, ("--lang", "ko"), mixed_q)
        check(hits and all(h["doc"] in ko_docs | mixed for h in hits) and
              any(h["doc"] in ko_docs for h in hits),
              f"{mode}: --lang ko returns only Korean documents", docs_of(hits))
        hits = searches.get(mode, ("--lang", "en"), mixed_q)
        check(hits and all(h["doc"] in en_docs | mixed for h in hits),
              f"{mode}: --lang en returns no Korean document", docs_of(hits))
        for after, before, q, expect in date_cases:
            f = date_filter(after, before)
            hits = searches.get(mode, f, q)
            got = {h["doc"] for h in hits or []}
            check(got == expect, f"{mode}: {' '.join(f)} keeps exactly the "
                  f"documents dated in the range", got)
        # every cited PDF page holds the start of its passage
        bad_pages = []
        for hits in searches.all_hits(mode):
            for h in hits:
                if h["doc"] in pdfs and pdfs[h["doc"]].pages:
                    p = h.get("page")
                    pages = pdfs[h["doc"]].pages
                    head = norm(h["text"])[:24]
                    if not (isinstance(p, int) and 1 <= p <= len(pages) and
                            head in norm(pages[p - 1])):
                        bad_pages.append((h["doc"], p, head))
        check(not bad_pages, f"{mode}: every PDF hit cites the page its "
              "passage starts on", sorted(set(bad_pages))[:5])
        fields = {"doc", "page", "chunk_id", "score", "text", "heading",
                  "char_start", "char_end"}
        bad_fields = [sorted(fields - set(h)) for hits in
                      searches.all_hits(mode) for h in hits
                      if not fields <= set(h)]
        check(not bad_fields, f"{mode}: every hit has {sorted(fields)}",
              bad_fields[:3])
        # the passage offsets point at the document text (a continued table
        # chunk starts with its repeated header row)
        bad_off = []
        for hits in searches.all_hits(mode):
            for h in hits:
                t = texts.get(h["doc"], "")
                sl = t[h["char_start"]:h["char_end"]]
                if not sl or (h["text"] != sl and
                              not h["text"].endswith("\n" + sl)):
                    bad_off.append((h["doc"], h["chunk_id"]))
        check(not bad_off, f"{mode}: hit offsets point at the passage in the "
              "document", sorted(set(bad_off))[:5])
    # the text a user reads: document, page and heading path of the hit
    c = next((c for c in cases if c["doc"] == "office/apache2.pdf"), None)
    if c:
        rc, out, err = a.run("search", "--data", data, "--mode", "bm25",
                             "--type", "pdf", "--k", "1", c["q"])
        check(rc == 0 and f"office/apache2.pdf, p. {c['page']}" in out and
              "3. Grant of Patent License" in out,
              "text output cites the document, page and section", out[:400])
    hits = searches.get("bm25", (), hostile_q)
    check(hits is not None and not any("NOISE" in h["text"] for h in hits),
          "HTML navigation, scripts, forms and footers are not indexed",
          docs_of(hits))
    db.close()

    # ------------------------------------------------------ re-index
    rc, s, err = a.index(data, docs)
    check(rc == 0 and s.get("unchanged") == len(good) and
          s.get("added") == 0 and s.get("updated") == 0 and
          s.get("removed") == 0 and s.get("chunks") == 0 and
          s.get("failed") == len(bad),
          "re-indexing: every good file unchanged, the bad ones fail again",
          {k: v for k, v in s.items() if k != "failures"})

    # same bytes, new time: unchanged (by hash); new content: updated;
    # deleted: removed
    os.utime(os.path.join(office, "contract.docx"))
    with open(os.path.join(office, "data.tsv"), "w") as f:
        f.write("Code\tDescription\tQty\nZ-9\tTitanium rivets from "
                "Vexmoor\t777\n")
    os.remove(os.path.join(office, "semicolon.csv"))
    rc, s, err = a.index(data, docs)
    check(rc == 0 and s.get("updated") == 1 and s.get("removed") == 1 and
          s.get("unchanged") == len(good) - 2 and s.get("added") == 0 and
          s.get("moved") == 0,
          "a touched file is unchanged, a rewritten one updated, a deleted "
          "one removed", {k: v for k, v in s.items() if k != "failures"})
    for mode in ("bm25", "hybrid"):
        res = a.search(data, mode, ["Titanium rivets Vexmoor",
                                    "Bolts steel quantity",
                                    "Year Revenue Profit 2023"],
                       filters=("--type", "csv"))
        hits = res["Titanium rivets Vexmoor"]
        check(hits and hits[0]["doc"] == "office/data.tsv" and
              "Titanium rivets from Vexmoor" in hits[0]["text"] and
              hits[0]["text"].startswith("Code | Description | Qty"),
              f"{mode}: the rewritten file's new text is found", docs_of(hits))
        hits = res["Bolts steel quantity"]
        check(hits is not None and not any("Bolts" in h["text"] for h in hits),
              f"{mode}: its old text is gone", docs_of(hits))
        hits = res["Year Revenue Profit 2023"]
        check(hits is not None and
              not any(h["doc"] == "office/semicolon.csv" for h in hits),
              f"{mode}: the deleted file is no longer found", docs_of(hits))
    rc, out, err = a.run("status", "--data", data, "--check", "--format",
                         "json")
    st = json.loads(out) if rc == 0 and out.strip() else {}
    check(rc == 0 and st.get("consistent") is True and
          st.get("documents") == len(good) - 1,
          "status --check after the changes", (rc, out[-600:], err[-600:]))


def date_filter(after, before):
    f = ()
    if after:
        f += ("--after", after)
    if before:
        f += ("--before", before)
    return f


def docs_of(hits):
    return [(h["doc"], h.get("page")) for h in hits or []][:6]


class Searches:
    """Queries are collected first and run in one process per mode and
    filter set."""

    def __init__(self, a, data):
        self.a = a
        self.data = data
        self.wanted = {}
        self.res = {}

    def want(self, mode, filters, q):
        lst = self.wanted.setdefault((mode, tuple(filters)), [])
        if q not in lst:
            lst.append(q)

    def run(self):
        for (mode, filters), qs in self.wanted.items():
            for q, hits in self.a.search(self.data, mode, qs,
                                         filters).items():
                self.res[(mode, filters, q)] = hits

    def get(self, mode, filters, q):
        return self.res.get((mode, tuple(filters), q))

    def all_hits(self, mode):
        return [h for (m, _, _), h in self.res.items() if m == mode and h]


EXT_TYPE = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".csv": "csv",
            ".tsv": "csv", ".html": "html", ".hwp": "hwp", ".hwpx": "hwpx",
            ".md": "markdown", ".txt": "text"}


def doc_type(rel):
    return EXT_TYPE.get(os.path.splitext(rel)[1].lower())


def format_cases(pdfs, have_apache_pdf, have_hwp):
    """A query per format answered by a known passage. twins: the documents
    holding the same passage in other formats (the office fixtures are made
    from one source each), which must be the top hits together, each once;
    type: the --type under which the twins of that type come first; page:
    the page for paged formats (PDF: from pdftotext); heading: texts the
    heading path must hold; needles: texts the passage must hold (a table's
    header row included)."""
    def pdf_page(rel, needle):
        p = pdfs.get(rel)
        return p.page_of(needle) if p else None

    cases = []

    def add(name, q, doc, type_, needles, heading=(), page=None,
            twins=(), split=False, not_heading=None, page_in_chunk=None):
        cases.append(dict(name=name, q=q, doc=doc, type=type_,
                          needles=needles, heading=list(heading), page=page,
                          twins=set(twins) | {doc}, split=split,
                          not_heading=not_heading,
                          page_in_chunk=page_in_chunk))

    trio = hwp_cases(add) if have_hwp else []
    patent = "3. Grant of Patent License"
    q = "patent license granted by each Contributor"
    apache = ["licenses/Apache-2.0.txt"] + \
        (["office/apache2.pdf"] if have_apache_pdf else [])
    add("Apache-2.0 text", q, "licenses/Apache-2.0.txt", "text",
        ["patent license"], [patent], twins=apache)
    if have_apache_pdf:
        add("Apache-2.0 PDF", q, "office/apache2.pdf", "pdf",
            ["patent license"], [patent],
            page=pdf_page("office/apache2.pdf", patent), twins=apache)
    q = "Either party may terminate this Agreement with thirty days notice"
    contract = ["office/contract.docx", "office/contract.pdf"]
    add("contract DOCX", q, "office/contract.docx", "docx", ["thirty days"],
        ["Software License Agreement", "3. Termination"], twins=contract)
    add("contract PDF", q, "office/contract.pdf", "pdf", ["thirty days"],
        ["3. Termination"], twins=contract,
        page=pdf_page("office/contract.pdf", "thirty days written notice"))
    q = "정보주체의 동의를 받아 개인정보를 수집"
    statute = ["office/statute.docx", "office/statute.pdf"]
    add("statute DOCX", q, "office/statute.docx", "docx", ["동의를 받아"],
        ["제2장 개인정보의 처리", "제3조(개인정보의 수집)"], twins=statute)
    add("statute PDF", q, "office/statute.pdf", "pdf", ["동의를 받아"],
        ["제3조(개인정보의 수집)"], twins=statute,
        page=pdf_page("office/statute.pdf", "동의를 받아"))
    # article numbers as users type them: the 제3조 of every statute first
    for q in ("3조", "제3조", "제 3 조"):
        add(f"article number '{q}'", q, "office/statute.docx", "docx",
            ["제3조"], ["제3조"], twins=statute + trio)
    add("multipage PDF, text on page 4", "Page Four Marker delta",
        "office/multipage.pdf", "pdf", ["Page Four Marker delta"],
        twins=["office/multipage.docx"], page_in_chunk=pdf_page(
            "office/multipage.pdf", "Page Four Marker delta"))
    add("XLSX sheet", "홍길동 법무팀 입사연도", "office/book.xlsx", "xlsx",
        ["홍길동 | 법무팀 | 2019", "이름 | 부서 | 입사연도"], ["직원"],
        # the second sheet is not a part of the first one
        not_heading="Revenue")
    add("HTML table", "Sub-processors CloudCo Ireland hosting",
        "office/page.html", "html",
        ["CloudCo | Ireland | Hosting", "Name | Country | Purpose"],
        ["Data Processing Addendum", "Sub-processors"])
    add("HTML in EUC-KR", "개인정보 처리방침 변경 안내 시행",
        "office/euckr.html", "html", ["2024년 3월 1일부터 시행"],
        ["개인정보 처리방침 변경 안내"])
    add("TSV", "Bolts steel quantity", "office/data.tsv", "csv",
        ["A-1 | Bolts, steel | 100", "Code | Description | Qty"])
    add("CSV in CP949", "김영희 부산광역시", "office/cp949.csv", "csv",
        ["김영희 | 부산광역시 | 2000"])
    add("CSV in UTF-16", "UTF16 widget price", "office/utf16.csv", "csv",
        ["UTF16 widget | 42"])
    add("CSV with quoted fields", "Kim Minsu Seoul Korea", "office/utf8.csv",
        "csv", ["Kim, Minsu | Seoul, Korea"])
    add("Markdown", "rent review by an independent surveyor Quillfeather",
        "own/lease-memo.md", "markdown", ["Quillfeather"],
        ["Lease Memo", "4. Rent Review"])
    # rows far into long tables: the chunk repeats the header row
    add("XLSX split table", "INV7047", "own/ledger.xlsx", "xlsx",
        ["INV7047 | Customer 47 |", "Invoice | Customer | Amount | Region"],
        ["Ledger"], split=True)
    add("DOCX split table", "ACC5050", "own/schedule.docx", "docx",
        ["| ACC5050", "Instalment | Due date | Amount | Account"],
        ["1. Payment Schedule"], split=True)
    add("CP949 CSV split table", "1047호 월세", "own/임대료_내역.csv", "csv",
        ["1047 | 임차인47 |", "호실 | 임차인 | 월세 | 계약일"], split=True)
    return cases


def hwp_cases(add):
    """gen_hwp's statute: the same text in statute.hwp (compressed, saved
    layout), statute-raw.hwp (uncompressed, explicit page break only) and
    statute.hwpx; the break before 제2장 starts page 2."""
    trio = ["hwp/statute.hwp", "hwp/statute-raw.hwp", "hwp/statute.hwpx"]
    title = "개인정보 보호 시행 규칙 (시험용)"
    for doc in trio:
        t = doc_type(doc)
        add(f"{doc} article on page 1", "위반 시 과태료는 1,234,000원 이하",
            doc, t, ["과태료는 1,234,000원 이하로 한다"],
            [title, "제1장 일반 규정", "제3조(적용 범위)"], page=1, twins=trio)
        add(f"{doc} article on page 2", "최소한의 개인정보를 수집하여야 한다",
            doc, t, ["최소한의 개인정보를 수집하여야"],
            [title, "제2장 개인정보의 처리", "제1절 수집",
             "제4조(수집의 제한)"], page=2, twins=trio)
        add(f"{doc} table", "민감 기록 보존기간 10년", doc, t,
            ["민감 기록 | 10년 | 56,700", "구분 | 보존기간 | 수수료(원)"],
            [title, "제2조(정의)"], page=1, twins=trio)
    for q in ("4조", "제4조", "제 4 조"):
        add(f"HWP article number '{q}'", q, "hwp/statute.hwp", "hwp",
            ["제4조"], ["제4조"], page=2, twins=trio)
    return trio


def check_case(searches, mode, c, db):
    name = f"{mode}: {c['name']}"
    n = len(c["twins"])
    hits = searches.get(mode, (), c["q"])
    top = (hits or [])[:n]
    check(hits and {h["doc"] for h in top} == c["twins"] and
          all(x in h["text"] for h in top for x in c["needles"][:1]),
          f"{name}: '{c['q'][:40]}' finds the passage in "
          f"{' and '.join(sorted(c['twins']))} first", docs_of(hits))
    # under --type, the documents of that type come first; the details are
    # checked on the hit of c['doc']
    same = {d for d in c["twins"] if doc_type(d) == c["type"]}
    hits = searches.get(mode, ("--type", c["type"]), c["q"]) or []
    top = hits[:len(same)]
    h = next((x for x in top if x["doc"] == c["doc"]), {})
    ok = bool(h) and {x["doc"] for x in top} == same
    check(ok, f"{name}: first under --type {c['type']}: {sorted(same)}",
          docs_of(hits))
    if not ok:
        return
    missing = [x for x in c["needles"] if x not in h["text"]]
    check(not missing, f"{name}: the passage holds {c['needles']}",
          f"missing {missing} in {h['text'][:300]!r}")
    if c["heading"]:
        lack = [x for x in c["heading"] if x not in h.get("heading", "")]
        check(not lack, f"{name}: heading path holds {c['heading']}",
              repr(h.get("heading")))
    if c["not_heading"]:
        check(c["not_heading"] not in h.get("heading", ""),
              f"{name}: heading path does not hold '{c['not_heading']}'",
              repr(h.get("heading")))
    paged = c["doc"].endswith((".pdf", ".hwp", ".hwpx"))
    if paged and c["page"] is None and c["page_in_chunk"] is None:
        check(False, f"{name}: the reference page of the passage is known")
    if c["page"] is not None:
        check(h.get("page") == c["page"], f"{name}: cites page {c['page']}",
              h.get("page"))
    elif not paged:
        check(h.get("page") is None, f"{name}: no page for an unpaged format",
              h.get("page"))
    if c["page_in_chunk"] is not None:
        r = db.execute("select page_start, page_end from chunks where id=?",
                       (h["chunk_id"],)).fetchone()
        check(r and r[0] == h.get("page") and r[0] <= c["page_in_chunk"] <= r[1],
              f"{name}: the passage's pages include page {c['page_in_chunk']}",
              (h.get("page"), r))
    if c["split"]:
        r = db.execute("select c.ordinal, d.n_chunks from chunks c join "
                       "documents d on d.id = c.doc_id where c.id=?",
                       (h["chunk_id"],)).fetchone()
        check(r and r[0] > 0 and r[1] > 2,
              f"{name}: the table was split and this is a later chunk", r)


if __name__ == "__main__":
    sys.exit(main())
