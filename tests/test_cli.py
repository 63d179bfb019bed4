#!/usr/bin/env python3
"""End-to-end tests of the askdocs binary over real files, a real SQLite
index, a real FAISS index and the real models installed by setup.

Run by ctest: test_cli.py --askdocs BUILD/askdocs --samples samples/
Prints one line per check and 'N passed, N failed' at the end.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from testlib import FAILS, Runner, check, finish



class Askdocs(Runner):
    def jsonl(self, *args, lines):
        stdin = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
        rc, out, err = self.run(*args, stdin=stdin.encode())
        rows = [json.loads(l) for l in out.splitlines() if l.strip()]
        return rc, rows, err


def search_top(a, data, mode, query, k=5):
    rc, rows, err = a.jsonl("search", "--data", data, "--mode", mode, "--k",
                            str(k), "--format", "jsonl",
                            lines=[{"id": 1, "query": query}])
    if rc != 0 or len(rows) != 1:
        return None, err
    return rows[0]["hits"], err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--askdocs", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--fixtures", default=None)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="askdocs-cli-")
    env = dict(os.environ)
    env.pop("ASKDOCS_CONFIG", None)
    a = Askdocs(args.askdocs, env)
    docs = os.path.join(tmp, "docs")
    data = os.path.join(tmp, "data")
    try:
        shutil.copytree(args.samples, docs)
        # real legal texts shipped with every Debian system
        lic = os.path.join(docs, "licenses")
        os.makedirs(lic)
        for name in ("Apache-2.0", "MPL-2.0", "GPL-3"):
            src = os.path.join("/usr/share/common-licenses", name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(lic, name + ".txt"))
        # other encodings and bad input
        ko = "제9조(보증금) 임차인은 보증금으로 금 5천만 원을 지급한다.\n"
        with open(os.path.join(docs, "cp949-lease.txt"), "wb") as f:
            f.write(("임대차 계약\n\n" + ko).encode("cp949"))
        with open(os.path.join(docs, "utf16-note.txt"), "wb") as f:
            f.write("Escrow memo\n\nThe escrow agent releases funds on "
                    "closing.\n".encode("utf-16"))
        with open(os.path.join(docs, "garbage.txt"), "wb") as f:
            f.write(bytes(range(256)) * 40)
        open(os.path.join(docs, "empty.md"), "w").close()
        with open(os.path.join(docs, "ignored.bin"), "wb") as f:
            f.write(b"not indexed")

        # --- usage and exit codes ---------------------------------------
        rc, out, err = a.run()
        check(rc == 2, "no command is a usage error (2)", rc)
        rc, out, err = a.run("index", "--help")
        check(rc == 0 and "--data" in out, "index --help")
        for sub in ("search", "ask", "config"):
            rc, out, err = a.run(sub, "--help")
            check(rc == 0 and "Usage" in out, f"{sub} --help")
        rc, out, err = a.run("index", docs)
        check(rc == 2 and "--data" in err, "index without --data is 2", err)
        rc, out, err = a.run("search", "--data", data, "--mode", "fuzzy", "x")
        check(rc == 2 and "mode" in err, "bad --mode is 2", err)
        rc, out, err = a.run("search", "--data", os.path.join(tmp, "none"), "x")
        check(rc == 1 and "askdocs index" in err, "missing index is 1 and says what to do", err)
        rc, out, err = a.run("frobnicate")
        check(rc == 2, "unknown command is 2")
        rc, out, err = a.run("version")
        check(rc == 0 and "askdocs" in out, "version")

        # --- configuration ----------------------------------------------
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("[search]\nk = 5\nkay = 3\n")
        rc, out, err = a.run("config", "--config", bad)
        check(rc == 2 and "bad.conf:3" in err and "kay" in err,
              "unknown key reported with file and line", err)
        good = os.path.join(tmp, "good.conf")
        with open(good, "w") as f:
            f.write("[search]\nk = 3\n")
        rc, out, err = a.run("config", "--config", good)
        check(rc == 0 and "k = 3" in out, "config file applies", out[:200])
        shipped = os.path.join(os.path.dirname(args.samples), "conf", "askdocs.conf")
        rc, out, err = a.run("config")
        with open(shipped) as f:
            body = "".join(l for l in f if not l.startswith("; askdocs") and
                           not l.startswith("; with") and not l.startswith("; Use") and
                           not l.startswith("; can") and not l.startswith("; Precedence"))
        check(rc == 0 and body.strip() == out.strip(),
              "conf/askdocs.conf lists exactly the built-in defaults")
        e2 = dict(env, ASKDOCS_SEARCH_K="4")
        p = subprocess.run([a.exe, "config", "--config", good],
                           capture_output=True, env=e2)
        check(b"k = 4" in p.stdout, "environment overrides the file")

        # --- indexing ---------------------------------------------------
        rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
        check(rc == 0, "index exits 0 despite bad files", err[-2000:])
        s = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        n_good = 6 + 3 + 2 + 1  # samples, licenses, encodings, empty
        check(s.get("failed") == 1 and "garbage.txt" in err,
              "the binary file fails with a message", f"{s} {err[-500:]}")
        check(s.get("added") == n_good, f"{n_good} files added", s)
        check(s.get("chunks", 0) > 30, "chunks written", s)
        db = sqlite3.connect(os.path.join(data, "askdocs.db"))
        docs_n = db.execute("select count(*) from documents").fetchone()[0]
        # the FTS5 table needs askdocs' tokenizer: status --check runs
        # FTS5's integrity-check (index against chunks) inside askdocs
        rc_st, out_st, err_st = a.run("status", "--data", data, "--check",
                                      "--format", "json")
        st = json.loads(out_st) if rc_st == 0 and out_st.strip() else {}
        fts_n = st.get("chunks") if st.get("consistent") else -1
        ch_n = db.execute("select count(*) from chunks").fetchone()[0]
        emb_n = db.execute("select count(*) from embeddings").fetchone()[0]
        check(docs_n == n_good and fts_n == ch_n == emb_n,
              "documents, chunks, FTS rows and embeddings agree",
              (docs_n, ch_n, fts_n, emb_n, st, err_st[-300:]))
        mode = db.execute("pragma journal_mode").fetchone()[0]
        check(mode == "wal", "database in WAL mode", mode)
        # every chunk is a verbatim slice of the stored document text
        bad_slices = 0
        for did, text in db.execute("select doc_id, text from doc_text"):
            for ct, cs, ce in db.execute(
                    "select text, char_start, char_end from chunks where doc_id=?",
                    (did,)):
                # (a chunk continuing a table starts with its header row)
                if text[cs:ce] != ct and not ct.endswith("\n" + text[cs:ce]):
                    bad_slices += 1
        check(bad_slices == 0, "chunk offsets point at their text", bad_slices)
        row = db.execute("select heading from chunks c join documents d on "
                         "d.id=c.doc_id where d.rel like '%master-services%' "
                         "and c.text like '%ninety (90)%'").fetchone()
        check(row and "5. Termination" in row[0] and "5.1" in row[0],
              "heading path kept", row)
        vec_files = [f for f in os.listdir(data) if f.endswith(".faiss")]
        gen = db.execute("select value from meta where key='vector_generation'").fetchone()[0]
        check(vec_files == [f"vectors-{gen}.faiss"],
              "one FAISS file, of the committed generation", (vec_files, gen))
        db.close()

        rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
        s = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        check(rc == 0 and s.get("unchanged") == n_good and s.get("added") == 0
              and s.get("chunks") == 0, "re-indexing unchanged files does nothing", s)

        # --- search: the passage holding the answer comes first ----------
        cases = [
            ("How many days of notice are needed to terminate the agreement "
             "for convenience?", "master-services-agreement.md", "ninety (90)"),
            ("What final dividend per share does the Board recommend?",
             "annual-report-2025.md", "GBP 0.12"),
            ("How quickly must the supervisory authority be notified of a "
             "personal data breach?", "data-protection-policy.txt", "seventy-two"),
            ("연차유급휴가는 며칠을 주는가?", "근로계약서.md", "15일"),
            ("대출 신청이 거절되면 신청 정보는 언제 파기하나요?",
             "개인정보_처리방침.txt", "3개월"),
            ("2025년 보통주 1주당 현금배당은 얼마인가?",
             "2025년_사업보고서_요약.md", "1,200원"),
            ("Which patent license does each Contributor grant under the "
             "Apache License?", "Apache-2.0.txt", "license"),
            ("임차인이 지급하는 보증금", "cp949-lease.txt", "5천만"),
        ]
        for m in ("bm25", "dense", "hybrid"):
            for q, doc, needle in cases:
                hits, err = search_top(a, data, m, q)
                ok = bool(hits) and hits[0]["doc"].endswith(doc) and \
                    needle.lower() in hits[0]["text"].lower()
                top = hits[0]["doc"] if hits else None
                check(ok, f"{m}: top hit for '{q[:40]}' is {doc}", f"got {top} {err[-300:]}")
        hits, _ = search_top(a, data, "hybrid", cases[0][0])
        h = hits[0] if hits else {}
        check(set(h) >= {"doc", "page", "chunk_id", "score", "text"} and
              h.get("page") is None and isinstance(h.get("chunk_id"), int),
              "hit fields follow the contract", h.keys())
        rc, out, err = a.run("search", "--data", data, "--explain",
                             "termination for cause")
        check(rc == 0 and "bm25 rank" in out and "master-services" in out,
              "text search with --explain", out[:300])
        check("matched terms: " in out and "termin" in out,
              "--explain lists the matched (stemmed) terms", out[:500])
        rc, rows, err = a.jsonl("search", "--data", data, "--explain", "--k",
                                "1", "--format", "jsonl",
                                lines=[{"id": 1, "query": "연차유급휴가는 며칠"}])
        h = rows[0]["hits"][0] if rows and rows[0].get("hits") else {}
        check("연차" in h.get("matched_terms", "") and "fused_score" in h and
              h.get("bm25_rank", 0) >= 1,
              "JSON --explain: ranks, fused score and matched Korean terms", h)
        for m in ("bm25", "dense", "hybrid"):
            rc, rows, err = a.jsonl("search", "--data", data, "--mode", m,
                                    "--path", "ko/", "--k", "10", "--format",
                                    "jsonl", lines=[{"id": 1, "query":
                                                     "termination notice 계약"}])
            hs = rows[0]["hits"] if rows else []
            check(rc == 0 and hs and all(x["doc"].startswith("ko/") for x in hs),
                  f"{m}: --path ko/ keeps only documents under ko/",
                  [x["doc"] for x in hs])
        rc, rows, err = a.jsonl("search", "--data", data, "--mode", "bm25",
                                "--path", "%", "--format", "jsonl",
                                lines=[{"id": 1, "query": "termination"}])
        check(rc == 0 and rows and rows[0]["hits"] == [],
              "a path prefix is not a LIKE pattern", rows)

        # --- hostile queries ---------------------------------------------
        hostile = ['"', '"""', "*", "text:secret", "heading: x", "NEAR(a b)",
                   "a AND", "OR", "NOT", "-", "- foo", "((((", "))", "^x", "",
                   "   ", "{text}: a", "x" * 100000, "\u0000\u0001\u0002",
                   "제 12 조", "😀", "C++ / C# & 'quotes'", "a\\b",
                   "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]
        lines = [{"id": i, "query": q} for i, q in enumerate(hostile)]
        raw = "".join(json.dumps(l) + "\n" for l in lines).encode()
        raw += b'{"id": "bin", "query": "\xff\xfe binary"}\n'  # invalid UTF-8
        raw += b'this is not json\n'
        raw += b'{"id": "noquery"}\n'
        for m in ("bm25", "hybrid"):
            rc, out, err = a.run("search", "--data", data, "--mode", m,
                                 "--format", "jsonl", stdin=raw)
            rows = [json.loads(l) for l in out.splitlines() if l.strip()]
            ids = [r.get("id") for r in rows]
            check(rc == 0 and len(rows) == len(lines) + 3 and
                  ids[:len(lines)] == list(range(len(lines))),
                  f"{m}: every hostile query gets exactly one line", (rc, len(rows), err[-500:]))
            errs = [r for r in rows if "error" in r]
            check(len(errs) == 3 and all(r["hits"] == [] for r in errs),
                  f"{m}: malformed lines get an error line", errs)

        # --- changes: update, removal ------------------------------------
        msa = os.path.join(docs, "en", "master-services-agreement.md")
        with open(msa, "a") as f:
            f.write("\n## 8. Notices\n\nNotices are sent to the registered "
                    "office by courier named Zephyrine Express.\n")
        os.remove(os.path.join(docs, "en", "data-protection-policy.txt"))
        rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
        s = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        check(rc == 0 and s.get("updated") == 1 and s.get("removed") == 1,
              "a changed file is updated, a deleted one removed", s)
        hits, _ = search_top(a, data, "hybrid", "Zephyrine courier")
        check(hits and hits[0]["doc"].endswith("master-services-agreement.md"),
              "updated text is searchable")
        for m in ("bm25", "dense", "hybrid"):
            hits, _ = search_top(a, data, m, cases[2][0], k=20)
            check(hits is not None and not any(
                h["doc"].endswith("data-protection-policy.txt") for h in hits),
                f"{m}: removed document no longer found")

        # --- the vector file is derived data: rebuilt when missing -------
        for f in os.listdir(data):
            if f.endswith(".faiss"):
                os.remove(os.path.join(data, f))
        hits, err = search_top(a, data, "dense", cases[0][0])
        check(hits and hits[0]["doc"].endswith("master-services-agreement.md"),
              "dense search rebuilds a missing FAISS file from SQLite", err[-300:])

        # --- schema version ----------------------------------------------
        other = os.path.join(tmp, "other")
        shutil.copytree(data, other)
        db = sqlite3.connect(os.path.join(other, "askdocs.db"))
        db.execute("update meta set value='99' where key='schema_version'")
        db.commit()
        db.close()
        rc, out, err = a.run("search", "--data", other, "--mode", "bm25", "x")
        check(rc == 1 and "schema version 99" in err,
              "another schema version gives a clear error", err)

        # --- answers with the real model ---------------------------------
        q1 = "What notice period applies to termination for convenience?"
        rc, rows, err = a.jsonl("ask", "--data", data, "--format", "jsonl",
                                lines=[{"id": "q1", "question": q1},
                                       {"id": "q2", "question":
                                        "근로자는 퇴직 예정일 며칠 전까지 통보해야 하나요?"}])
        check(rc == 0 and len(rows) == 2, "ask answers every line", err[-1500:])
        if rows:
            r = rows[0]
            print("answer:", r.get("answer"))
            cits = r.get("citations", [])
            check(set(r) >= {"id", "answer", "citations", "ttft_ms", "total_ms"},
                  "answer fields follow the contract", r.keys())
            check(r.get("refused") is False and cits,
                  "the model answers with citations", r)
            check(any("ninety (90)" in c["text"] and
                      c["doc"].endswith("master-services-agreement.md")
                      for c in cits),
                  "a citation points at the passage holding the answer", cits)
            check(all(f"[{c['n']}]" in r["answer"] for c in cits),
                  "every listed citation is marked in the answer")
            check(r["ttft_ms"] > 0 and r["total_ms"] >= r["ttft_ms"],
                  "latencies reported", (r["ttft_ms"], r["total_ms"]))
        if len(rows) > 1:
            r = rows[1]
            print("answer:", r.get("answer"))
            check(isinstance(r.get("answer"), str) and
                  all("text" in c for c in r.get("citations", [])),
                  "a Korean question gets a well-formed answer", r)
        rc, out, err = a.run("ask", "--data", data, q1)
        check(rc == 0 and "Sources:" in out and "master-services-agreement.md" in out,
              "text mode streams the answer and lists sources", (out[-800:], err[-800:]))
        rc, rows, err = a.jsonl("ask", "--data", data, "--model", "none",
                                "--format", "jsonl",
                                lines=[{"id": 1, "question": q1}])
        check(rc == 0 and rows and rows[0]["citations"] and
              any("ninety (90)" in c["text"] for c in rows[0]["citations"]),
              "extractive mode (no model) cites the passage", rows)

        # --- answer structure: sentences, spans in bytes and characters
        if rows and rows[0]["citations"]:
            r = rows[0]
            check(r.get("mode") == "extractive", "extractive answers say so", r.get("mode"))
            sents = r.get("sentences", [])
            check(sents and all(0 <= x["start"] < x["end"] <= len(r["answer"].encode())
                                for x in sents) and
                  all(x["supported"] == bool(x["cites"]) for x in sents),
                  "answer sentences with byte ranges and their citations", sents)
            for c in r["citations"]:
                b = c["text"].encode()
                span_b = b[c["span_start"]:c["span_end"]].decode()
                span_c = c["text"][c["span_char_start"]:c["span_char_end"]]
                check(span_b and span_b == span_c,
                      "citation span in bytes and in characters is the same text",
                      (span_b[:80], span_c[:80]))
        # --answer-mode extractive with the model configured: no generation
        rc, rows, err = a.jsonl("ask", "--data", data, "--answer-mode", "extractive",
                                "--format", "jsonl", lines=[{"id": 1, "question": q1}])
        check(rc == 0 and rows and rows[0].get("mode") == "extractive" and
              rows[0].get("generated_tokens") == 0 and rows[0]["citations"],
              "--answer-mode extractive answers without the model", rows)
        rc, rows, err = a.jsonl("ask", "--data", data, "--answer-mode", "bogus",
                                "--format", "jsonl", lines=[{"id": 1, "question": q1}])
        check(rc == 2 and "mode" in err, "an unknown answer mode is a usage error",
              (rc, err[-300:]))
        # thorough: a rationale from each passage, then the answer
        rc, rows, err = a.jsonl("ask", "--data", data, "--answer-mode", "thorough",
                                "--format", "jsonl", lines=[{"id": 1, "question": q1}])
        check(rc == 0 and rows and rows[0].get("mode") == "thorough" and
              "rationales" in rows[0] and
              (rows[0]["refused"] or (rows[0]["citations"] and rows[0]["rationales"] >= 1)),
              "thorough mode answers (rationales counted, citations verified)",
              rows[0] if rows else err[-800:])
        if rows and not rows[0]["refused"]:
            check(any("ninety (90)" in c["text"] for c in rows[0]["citations"]),
                  "thorough mode cites the passage with the answer", rows[0]["citations"])

        # --- the reader goes away: generation stops (no 384-token answer
        # written into a closed pipe); -v logs the tokens made
        p = subprocess.Popen([args.askdocs, "ask", "--data", data, "-v",
                              "Summarize every obligation of each party in detail."],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        first = p.stdout.read(1)
        p.stdout.close()
        try:
            _, err_b = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err_b = p.communicate()
        err_s = err_b.decode(errors="replace")
        gone = [l for l in err_s.splitlines() if "has gone" in l]
        check(first and p.returncode == 0 and gone,
              "a closed pipe stops the answer", (p.returncode, gone, err_s[-600:]))
        if gone:
            made = int(gone[0].rsplit("after", 1)[1].split()[0])
            check(made < 60, "stopped within a few tokens of the reader leaving (%d)" % made)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    return finish()


if __name__ == "__main__":
    sys.exit(main())
