#!/usr/bin/env python3
"""Retrieval end to end with the real binary, the real embedding model and
real SQLite + FAISS indexes:

  vectors   exact, HNSW and IVF-PQ indexes agree (recall@10 against exact
            search), removed documents never come back from an approximate
            index (tombstones), and the index is rebuilt when they pile up;
  access    a reader limited to some collections (--readable) never sees a
            document of another one - in hits, --explain, evidence, answers,
            citations or error messages - and loses no results to them;
  evidence  near-duplicates dropped, short hits joined with their section
            neighbours, the token budget kept, MMR diversifies;
  rerank    a remote /v1/rerank server (here a stand-in written below, in
            the llama-server/Infinity and TEI formats) reorders the fused
            hits; when it is down, slow or talks nonsense the fused order
            stays; it only ever receives passages the reader may see; a
            local model that is not a cross-encoder is refused.

Run by ctest: test_retrieval.py --askdocs BUILD/askdocs [--gen-model GGUF]
Prints one line per check and 'N passed, N failed' at the end.
"""
import argparse
import http.server
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

from testlib import Runner, check, finish

LICENSES = ("Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.3", "GPL-2",
            "GPL-3", "LGPL-2.1", "LGPL-3", "MPL-1.1", "MPL-2.0")

# the secret a reader of "public" must never see (English and Korean)
CANARY = "NIGHTJAR"
CANARY_KO = "나이트자르"
SECRET_DOC = (
    "Project NIGHTJAR acquisition memo\n\n"
    "The acquisition price for Project NIGHTJAR is 4,417 million won, "
    "payable at closing. The termination notice period for the NIGHTJAR "
    "share purchase agreement is seventeen days.\n\n"
    "나이트자르 프로젝트 인수 가격은 44억 1700만 원이며 해지 통지 기간은 17일이다.\n")
PUBLIC_DOC = (
    "Services agreement\n\n"
    "Either party may terminate this agreement for convenience by giving "
    "ninety days' prior written notice. The acquisition of equipment is "
    "paid by the customer.\n\n"
    "The notice period for termination for cause is fifteen days.\n")


def jsonl(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def hits_of(r, data, query, *args, env=None):
    rc, out, err = r.run("search", "--data", data, "--format", "jsonl",
                         *args, query, env=env)
    lines = jsonl(out) if rc == 0 else []
    return rc, (lines[0]["hits"] if lines else []), out + err


# ------------------------------------------------------------- vectors
def vector_tests(r, tmp):
    corpus = os.path.join(tmp, "lic")
    os.makedirs(corpus)
    for name in LICENSES:
        src = os.path.join("/usr/share/common-licenses", name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(corpus, name + ".txt"))
    data = os.path.join(tmp, "vec")
    env = {"ASKDOCS_INDEX_CHUNK_OVERLAP": "0"}
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "20",
                         "--format", "json", corpus, env=env)
    summary = json.loads(out) if rc == 0 else {}
    check(rc == 0 and summary.get("chunks", 0) >= 2000,
          "short-chunk licence corpus indexed with vectors",
          f"rc={rc} {summary.get('chunks')} {err[-300:]}")

    def status(extra=None):
        rc, out, err = r.run("status", "--data", data, "--check", "--format",
                             "json", env=extra)
        return json.loads(out) if rc == 0 else {"error": err}

    st = status()
    check(st.get("vector_index") == "flat" and st.get("consistent"),
          "a small corpus gets the exact (flat) index", str(st))

    # queries: opening words of 40 chunks, fixed seed
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    rows = db.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()
    db.close()
    rng = random.Random(11)
    queries = []
    for cid, text in rng.sample(rows, 40):
        words = text.split()
        if len(words) >= 4:
            queries.append(" ".join(words[:8]))
    stdin = "".join(json.dumps({"id": i, "query": q}) + "\n"
                    for i, q in enumerate(queries))

    def dense_ids(kind_env):
        e = {"ASKDOCS_SEARCH_K": "10"}
        e.update(kind_env)
        rc, out, err = r.run("search", "--data", data, "--mode", "dense",
                             "--format", "jsonl", stdin=stdin.encode(), env=e)
        res = {}
        for line in jsonl(out) if rc == 0 else []:
            res[line["id"]] = [(h["chunk_id"], h["score"]) for h in line["hits"]]
        return res, err

    exact, err = dense_ids({})
    check(len(exact) == len(queries) and all(len(v) == 10 for v in exact.values()),
          "exact dense search answers every query", err[-300:])
    ranking_tests(r, data, queries)

    # (the >= 0.95 target is the bench's, at 100k chunks; these 2,300
    # short boilerplate chunks are a hard case for a graph)
    for kind, floor in (("hnsw", 0.90), ("ivfpq", 0.90)):
        approx, err = dense_ids({"ASKDOCS_INDEX_VECTOR_INDEX": kind})
        # a hit counts when it is one of the exact top 10, or ties with the
        # 10th (licence texts repeat whole lines: equal vectors, other ids)
        hit = 0
        for i in exact:
            ids = {c for c, _ in exact[i]}
            tie = exact[i][-1][1] - 1e-5
            hit += sum(1 for c, sc in approx.get(i, [])
                       if c in ids or sc >= tie)
        rec = hit / max(1, 10 * len(exact))
        check(rec >= floor, f"{kind}: recall@10 against exact {rec:.3f} >= {floor}",
              err[-300:])
        st = status({"ASKDOCS_INDEX_VECTOR_INDEX": kind})
        check(st.get("vector_index") == kind and st.get("consistent"),
              f"{kind}: status --check reports the kind and agrees", str(st))

    # the writer turns the file into HNSW; removed documents become
    # tombstones that search never returns
    henv = {"ASKDOCS_INDEX_VECTOR_INDEX": "hnsw", "ASKDOCS_INDEX_CHUNK_OVERLAP": "0"}
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "20",
                         corpus, env=henv)
    st = status()
    check(rc == 0 and st.get("vector_index") == "hnsw",
          "index with vector_index = hnsw writes an HNSW file", str(st))
    gone = os.path.join(corpus, "BSD.txt")
    with open(gone) as f:
        bsd_text = f.read()
    os.unlink(gone)
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "20",
                         corpus, env=henv)
    st = status()
    check(rc == 0 and st.get("consistent") and
          st.get("vectors", 0) > st.get("embeddings", 0),
          "removing a small document leaves tombstones, still consistent",
          str(st))
    q = " ".join(bsd_text.split()[20:34])
    rc, hits, text = hits_of(r, data, q, "--mode", "dense", "--k", "20")
    check(rc == 0 and hits and all(not h["doc"].startswith("BSD") for h in hits),
          "a removed document never comes back from HNSW", text[-300:])
    for name in ("GPL-3.txt", "GPL-2.txt"):
        os.unlink(os.path.join(corpus, name))
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "20",
                         corpus, env=henv)
    st = status()
    check(rc == 0 and st.get("consistent") and
          st.get("vectors") == st.get("embeddings") and
          st.get("vector_index") == "hnsw",
          "past a tenth of tombstones the index is rebuilt", str(st))
    rc, hits, text = hits_of(r, data, "Apache License", "--explain")
    check(rc == 0 and hits and "dense_rank" in hits[0],
          "hybrid --explain over HNSW", text[-300:])


def ranking_tests(r, data, queries):
    """askdocs_bm25 with MaxScore (bm25_prune = 1, the default) returns
    what FTS5's own bm25() returns; hybrid with BM25 on its own thread
    (parallel = 1) returns what one thread does."""
    extra = ["the license", "you may not use this file except",
             "software is distributed without any warranty",
             "the the the of of and", "copyright notice license terms"]
    qs = queries + extra
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    fw = db.execute("SELECT value FROM meta WHERE key = 'fts_written'").fetchone()
    db.close()
    check(fw is not None and fw[0] == "0",
          "the first indexing run merged the BM25 index (meta fts_written = 0)",
          str(fw))
    stdin = "".join(json.dumps({"id": i, "query": q}) + "\n"
                    for i, q in enumerate(qs)).encode()

    def run(mode, env, *args):
        rc, out, err = r.run("search", "--data", data, "--mode", mode,
                             "--format", "jsonl", "-v", *args,
                             stdin=stdin, env=env)
        res = {line["id"]: [(h["chunk_id"], round(h["score"], 9))
                            for h in line["hits"]]
               for line in (jsonl(out) if rc == 0 else [])}
        return rc, res, err

    def same(a, b):
        """Equal scores; equal ids except among rows tied with the last."""
        if len(a) != len(b):
            return False
        for (ia, sa), (ib, sb) in zip(a, b):
            if abs(sa - sb) > 1e-7:
                return False
            if ia != ib and abs(sa - a[-1][1]) > 1e-7:
                return False
        return True

    for k in ("10", "50"):
        for args in ((), ("--path", "GPL"), ("--type", "text")):
            rc0, full, _ = run("bm25", {"ASKDOCS_SEARCH_BM25_PRUNE": "0",
                                        "ASKDOCS_SEARCH_K": k}, *args)
            rc1, pruned, err = run("bm25", {"ASKDOCS_SEARCH_K": k}, *args)
            bad = [i for i in full if not same(full[i], pruned.get(i, []))]
            check(rc0 == 0 and rc1 == 0 and len(full) == len(qs) and not bad,
                  f"bm25 with pruning = FTS5 bm25(), k={k} {' '.join(args)}"
                  f" ({len(qs)} queries)",
                  f"differ: {bad[:3]} {err[-300:]}")
            if k == "10" and not args:
                check("bm25: rare terms only" in err or
                      "bm25: second pass" in err,
                      "the MaxScore split decided some queries", err[-300:])
    rc0, one, _ = run("hybrid", {"ASKDOCS_SEARCH_PARALLEL": "0"})
    rc1, two, err = run("hybrid", {})
    bad = [i for i in one if not same(one[i], two.get(i, []))]
    check(rc0 == 0 and rc1 == 0 and len(one) == len(qs) and not bad,
          "hybrid: BM25 on its own thread gives the one-thread results",
          f"differ: {bad[:3]} {err[-300:]}")


# ------------------------------------------------------------- access
def no_secret(text):
    return CANARY not in text and CANARY_KO not in text and \
        "secret" not in text and "nightjar" not in text.lower()


def access_tests(r, tmp, gen_model):
    pub = os.path.join(tmp, "pub")
    tiny = os.path.join(tmp, "tiny")
    sec = os.path.join(tmp, "confidential")
    for d in (pub, tiny, sec):
        os.makedirs(d)
    for i in range(12):
        with open(os.path.join(pub, f"agreement-{i:02d}.md"), "w") as f:
            f.write(f"# Agreement {i}\n\n" + PUBLIC_DOC)
    with open(os.path.join(tiny, "memo.md"), "w") as f:
        f.write("# Memo\n\nThe acquisition committee meets on Mondays.\n")
    for i in range(30):
        with open(os.path.join(sec, f"secret-{i:02d}.md"), "w") as f:
            f.write(f"# Memo {i}\n\n" + SECRET_DOC)
    data = os.path.join(tmp, "acl")
    for d, coll in ((pub, "public"), (tiny, "tiny"), (sec, "restricted")):
        rc, out, err = r.run("index", "-q", "--data", data, "--collection", coll, d)
        check(rc == 0, f"indexed collection {coll}", err[-300:])

    q = "NIGHTJAR acquisition price termination notice period"
    rc, hits, text = hits_of(r, data, q, "--k", "5")
    check(rc == 0 and len(hits) == 5 and
          all("secret" in h["doc"] for h in hits),
          "without a rule the secret memos fill the top 5", text[-300:])
    for mode in ("hybrid", "bm25", "dense"):
        for env in ({}, {"ASKDOCS_INDEX_VECTOR_INDEX": "hnsw"}):
            tag = mode + (" (hnsw)" if env else "")
            rc, hits, text = hits_of(r, data, q, "--k", "5", "--mode", mode,
                                     "--readable", "public", "--explain",
                                     env=env)
            check(rc == 0 and len(hits) == 5 and no_secret(text) and
                  all(h["doc"].startswith("agreement") for h in hits),
                  f"{tag}: a public reader gets 5 public hits, nothing secret",
                  text[-400:])
            # a selective rule: exact scan over the few visible vectors
            rc, hits, text = hits_of(r, data, q, "--k", "5", "--mode", mode,
                                     "--readable", "tiny", env=env)
            check(rc == 0 and no_secret(text) and
                  [h["doc"] for h in hits] == (["memo.md"] if mode != "bm25"
                                               or hits else []),
                  f"{tag}: a reader of a tiny collection gets its one document",
                  text[-400:])
    rc, hits, text = hits_of(r, data, q, "--readable", "public",
                             "--collection", "restricted")
    check(rc == 0 and hits == [] and no_secret(text),
          "asking for a forbidden collection finds nothing, says nothing",
          text[-300:])
    rc, hits, text = hits_of(r, data, q, "--readable", "")
    check(rc == 0 and hits == [] and no_secret(text),
          "a reader of no collection finds nothing", text[-300:])
    # hostile and broken queries through stdin: errors name nothing secret
    lines = [json.dumps({"id": 1, "query": 'NIGHTJAR* OR "price" NEAR(x y)'}),
             "{not json", json.dumps({"id": 3, "query": "\u0000" * 10}),
             json.dumps({"id": 4, "query": "나이트자르 인수 가격 " * 400})]
    rc, out, err = r.run("search", "--data", data, "--readable", "public",
                         "--format", "jsonl",
                         stdin=("\n".join(lines) + "\n").encode())
    check(no_secret(out + err) and len(jsonl(out)) == 4,
          "hostile queries of a public reader: answers and errors show nothing "
          "secret", (out + err)[-400:])
    # answers: extractive and with the real model
    rc, out, err = r.run("ask", "--data", data, "--readable", "public",
                         "--model", "none", "--format", "jsonl",
                         "What is the NIGHTJAR acquisition price?")
    check(rc in (0, 1) and no_secret(out + err),
          "extractive answer of a public reader cites nothing secret",
          (out + err)[-400:])
    if gen_model:
        for question in ("What is the acquisition price of Project NIGHTJAR?",
                         "나이트자르 프로젝트 인수 가격은 얼마인가?"):
            rc, out, err = r.run("ask", "--data", data, "--readable", "public",
                                 "--model", gen_model, "--format", "jsonl",
                                 question)
            res = jsonl(out)
            check(res and no_secret(out + err) and
                  all(c["doc"].startswith("agreement")
                      for c in res[0]["citations"]) and
                  all(e["doc"].startswith("agreement")
                      for e in res[0]["evidence"]),
                  "model answer of a public reader: answer, evidence and "
                  "citations hold nothing secret", (out + err)[-400:])
        rc, out, err = r.run("ask", "--data", data, "--model", gen_model,
                             "--format", "jsonl",
                             "What is the acquisition price of Project NIGHTJAR?")
        res = jsonl(out)
        check(res and any("secret" in e["doc"] for e in res[0]["evidence"]),
              "(control) without a rule the memo is the evidence",
              (out + err)[-300:])


# ------------------------------------------------------------- evidence
def evidence_tests(r, tmp):
    docs = os.path.join(tmp, "ev")
    os.makedirs(docs)
    clause = ("The supplier shall keep all customer records confidential and "
              "shall not disclose them to any third party without written "
              "consent, except where a court orders disclosure.")
    for name in ("contract-a.md", "contract-b.md"):
        with open(os.path.join(docs, name), "w") as f:
            f.write("# Contract\n\n## Confidentiality\n\n" + clause + "\n")
    # a near copy (about 0.7 of its words shared): not dropped, but MMR
    # prefers something new over it
    near = clause.replace("court orders", "regulator requires").replace(
        "written consent", "prior consent in writing")
    with open(os.path.join(docs, "contract-c.md"), "w") as f:
        f.write("# Contract C\n\n## Secrecy\n\n" + near + "\n")
    with open(os.path.join(docs, "privacy.md"), "w") as f:
        f.write("# Privacy policy\n\n## Records\n\nCustomer records are "
                "stored in the supplier's data centre for seven years.\n")
    # a section longer than one chunk whose last chunk is short
    body = " ".join(
        f"Sentence {i} of the warranty section describes repair obligations "
        f"for defect class {i}." for i in range(1, 9))
    with open(os.path.join(docs, "warranty.md"), "w") as f:
        f.write("# Terms\n\n## Warranty\n\n" + body +
                "\n\nThe warranty lapses after thirty-six months.\n\n"
                "## Payment\n\nInvoices are paid within thirty days.\n")
    data = os.path.join(tmp, "evd")
    env = {"ASKDOCS_INDEX_CHUNK_OVERLAP": "0"}
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "60",
                         docs, env=env)
    check(rc == 0, "evidence corpus indexed", err[-300:])

    def ask(question, extra=None):
        e = {"ASKDOCS_GENERATE_EVIDENCE": "3"}
        e.update(extra or {})
        rc, out, err = r.run("ask", "--data", data, "--model", "none",
                             "--format", "jsonl", question, env=e)
        res = jsonl(out)
        return res[0] if res else {"error": err}

    a = ask("Who may the supplier disclose customer records to?")
    ev = a.get("evidence", [])
    docs_seen = [e["doc"] for e in ev]
    check(a.get("duplicates_dropped", 0) >= 1 and
          not ("contract-a.md" in docs_seen and "contract-b.md" in docs_seen),
          "a clause copied into two contracts is given once", json.dumps(a)[:500])
    a = ask("How long until coverage lapses?",
            {"ASKDOCS_GENERATE_EVIDENCE": "1"})
    ev = a.get("evidence", [])
    top = ev[0] if ev else {}
    check(top and top["first_chunk"] < top["chunk_id"] and
          top["last_chunk"] == top["chunk_id"],
          "a short hit is joined with the chunk before it in its section",
          json.dumps(a)[:600])
    check(top and "Payment" not in json.dumps(a.get("citations", [])) and
          all(e["last_chunk"] - e["first_chunk"] <= 4 for e in ev),
          "joining stops at the section end", json.dumps(a)[:600])
    a = ask("warranty repair obligations defect class",
            {"ASKDOCS_GENERATE_EVIDENCE_TOKENS": "80"})
    ev = a.get("evidence", [])
    check(ev and sum(e["tokens"] for e in ev) <= 80,
          "the evidence fits the token budget",
          json.dumps([(e["chunk_id"], e["tokens"]) for e in ev]))
    q = "Who may the supplier disclose customer records to?"
    a1 = ask(q, {"ASKDOCS_GENERATE_EVIDENCE_MMR": "1"})
    a2 = ask(q, {"ASKDOCS_GENERATE_EVIDENCE_MMR": "0.3"})
    d1 = [e["doc"] for e in a1.get("evidence", [])]
    d2 = [e["doc"] for e in a2.get("evidence", [])]
    check(len(d1) >= 2 and "contract-c.md" in d1[:2] and
          len(d2) >= 2 and "contract-c.md" not in d2[:2],
          f"MMR: a low lambda trades the near copy for a new passage {d1[:3]} {d2[:3]}",
          f"{d1} {d2}")

    # British spelling in the text, American in the question
    rc, hits, text = hits_of(r, data, "customer records confidentiality "
                             "authorized", "--mode", "bm25", "--explain")
    with open(os.path.join(docs, "authorised.md"), "w") as f:
        f.write("# Licensing\n\n## Authorisation\n\nOnly an Authorised "
                "Person may hold a licence for this behaviour.\n")
    rc, out, err = r.run("index", "-q", "--data", data, "--chunk-tokens", "60",
                         docs, env=env)
    rc, hits, text = hits_of(r, data, "authorized person license behavior",
                             "--mode", "bm25", "--explain")
    check(rc == 0 and hits and hits[0]["doc"] == "authorised.md" and
          len(hits[0]["matched_terms"].split()) >= 4,
          "BM25 matches American spelling to British text",
          text[-300:])
    # an index tokenized by an older analyser is re-tokenized by a writer
    import sqlite3
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    db.execute("UPDATE meta SET value = '1' WHERE key = 'analyzer_version'")
    db.commit()
    db.close()
    rc, out, err = r.run("search", "--data", data, "licence")
    check(rc == 0 and "older analyser" in err,
          "a reader of an old-analyser index is told to update it", err[-200:])
    rc, out, err = r.run("index", "--data", data, "--chunk-tokens", "60",
                         docs, env=env)
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    ver = db.execute("SELECT value FROM meta WHERE key = 'analyzer_version'"
                     ).fetchone()
    db.close()
    rc2, out2, err2 = r.run("status", "--data", data, "--check")
    check(rc == 0 and "re-tokenizing" in err and ver and ver[0] == "2" and
          rc2 == 0 and "check       ok" in out2,
          "a writer re-tokenizes it and the index checks out",
          (err + out2)[-300:])



# ------------------------------------------------------------- rerank
class RerankServer(http.server.ThreadingHTTPServer):
    """A stand-in remote reranker. mode: "reverse" (scores that reverse the
    order it was given), "garbage", "slow", "error"."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RerankHandler)
        self.mode = "reverse"
        self.requests = []


class RerankHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        srv = self.server
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        srv.requests.append({"path": self.path, "auth":
                             self.headers.get("Authorization"), "body": req})
        docs = req.get("documents") or req.get("texts") or []
        if srv.mode == "slow":
            time.sleep(3)
        if srv.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if srv.mode == "garbage":
            out = b"<html>no</html>"
        elif self.path == "/rerank":  # TEI
            out = json.dumps([{"index": i, "score": float(i)}
                              for i in range(len(docs))]).encode()
        else:
            out = json.dumps({"results": [
                {"index": i, "relevance_score": float(i)}
                for i in range(len(docs))]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the "slow" case)


def rerank_tests(r, tmp, embed_model):
    docs = os.path.join(tmp, "rr")
    os.makedirs(docs)
    for i in range(8):
        with open(os.path.join(docs, f"policy-{i}.md"), "w") as f:
            f.write(f"# Policy {i}\n\nRetention of records: keep invoices for "
                    f"{i + 3} years. " + "Records are archived. " * i + "\n")
    sec = os.path.join(tmp, "rrsec")
    os.makedirs(sec)
    with open(os.path.join(sec, "secret-records.md"), "w") as f:
        f.write("# Memo\n\nNIGHTJAR records retention: invoices are kept "
                "for NIGHTJAR forever.\n")
    data = os.path.join(tmp, "rrd")
    for d, coll in ((docs, "public"), (sec, "restricted")):
        rc, out, err = r.run("index", "-q", "--data", data, "--collection",
                             coll, d)
        check(rc == 0, f"rerank corpus: {coll} indexed", err[-300:])
    srv = RerankServer()
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    q = "how long are invoices kept in records retention"
    try:
        rc, plain, text = hits_of(r, data, q, "--k", "6", "--readable", "public")
        fused = [h["chunk_id"] for h in plain]
        env = {"ASKDOCS_RERANK_URL": base + "/v1/rerank",
               "ASKDOCS_RERANK_TOP": "6", "ASKDOCS_RERANK_API_KEY": "k-123",
               "ASKDOCS_RERANK_NAME": "bge-reranker"}
        rc, hits, text = hits_of(r, data, q, "--k", "6", "--explain",
                                 "--readable", "public", env=env)
        got = [h["chunk_id"] for h in hits]
        check(rc == 0 and len(fused) == 6 and got == fused[::-1] and
              all(h.get("rerank_rank") == i + 1 for i, h in enumerate(hits)),
              "remote reranker (llama-server format) reorders the fused hits",
              f"{fused} {got} {text[-200:]}")
        last = srv.requests[-1] if srv.requests else {}
        check(last.get("auth") == "Bearer k-123" and
              last.get("body", {}).get("model") == "bge-reranker" and
              last.get("body", {}).get("query") == q,
              "the request carries query, model and bearer token",
              str(last)[:300])
        check(srv.requests and all(
            "NIGHTJAR" not in json.dumps(x["body"]) for x in srv.requests),
            "the reranker never receives a passage the reader may not see")
        tenv = dict(env, ASKDOCS_RERANK_URL=base + "/rerank",
                    ASKDOCS_RERANK_FORMAT="tei")
        rc, hits, text = hits_of(r, data, q, "--k", "6", "--readable",
                                 "public", env=tenv)
        check(rc == 0 and [h["chunk_id"] for h in hits] == fused[::-1] and
              "texts" in srv.requests[-1]["body"],
              "remote reranker in TEI format", text[-200:])
        for mode in ("garbage", "error", "slow"):
            srv.mode = mode
            e = dict(env, ASKDOCS_RERANK_TIMEOUT_MS="1000")
            t0 = time.time()
            rc, hits, text = hits_of(r, data, q, "--k", "6", "--readable",
                                     "public", env=e)
            took = time.time() - t0
            check(rc == 0 and [h["chunk_id"] for h in hits] == fused and
                  "reranking skipped" in text and took < 30,
                  f"a reranker that is {mode}: fused order, one warning",
                  text[-300:])
        srv.mode = "reverse"
    finally:
        srv.shutdown()
        srv.server_close()
    rc, hits, text = hits_of(r, data, q, "--k", "6", "--readable", "public",
                             env={"ASKDOCS_RERANK_URL": base + "/v1/rerank",
                                  "ASKDOCS_RERANK_TIMEOUT_MS": "500"})
    check(rc == 0 and [h["chunk_id"] for h in hits] == fused and
          "reranking skipped" in text,
          "a reranker that is down: fused order, one warning", text[-300:])
    rc, out, err = r.run("search", "--data", data, q,
                         env={"ASKDOCS_RERANK_URL": "ftp://x/rerank"})
    check(rc != 0 and "http" in err, "a non-HTTP reranker url is refused",
          err[-200:])
    if embed_model:
        rc, out, err = r.run("search", "--data", data, q,
                             env={"ASKDOCS_RERANK_MODEL": embed_model})
        check(rc != 0 and "not a reranker" in err,
              "a local model without a classification head is refused",
              err[-300:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--askdocs", required=True)
    ap.add_argument("--gen-model", default="")
    ap.add_argument("--embed-model", default="")
    ap.add_argument("--only", default="vectors,access,evidence,rerank")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="askdocs-retrieval-")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ASKDOCS_") and k != "ASKDOCS_CACHE":
            del env[k]
    base = Runner(a.askdocs, env)

    class R:
        def run(self, *args, stdin=None, env=None):
            saved = base.env
            if env:
                base.env = dict(saved)
                base.env.update(env)
            try:
                return base.run(*args, stdin=stdin)
            finally:
                base.env = saved

    r = R()
    gen = a.gen_model if a.gen_model and os.path.exists(a.gen_model) else ""
    try:
        only = a.only.split(",")
        if "evidence" in only:
            evidence_tests(r, tmp)
        if "rerank" in only:
            rerank_tests(r, tmp, a.embed_model)
        if "access" in only:
            access_tests(r, tmp, gen)
        if "vectors" in only:
            vector_tests(r, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
