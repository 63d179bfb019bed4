#!/usr/bin/env python3
"""Incremental sync that never corrupts: askdocs index killed with SIGKILL at
many moments, searching while indexing, moved files, --watch.

Run by ctest: test_sync.py --askdocs BUILD/askdocs [--kills N]
The corpus is real legal text (/usr/share/common-licenses) cut into files of
our own, indexed with the real embedding model into a real SQLite + FAISS
index. Prints one line per check and 'N passed, N failed' at the end.
"""
import argparse
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from testlib import FAILS, Runner, check, finish



def make_corpus(root, n_files):
    """n_files text files of 3-6 KB each, cut from the licence texts."""
    text = ""
    for name in ("GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-3", "GPL-2"):
        p = os.path.join("/usr/share/common-licenses", name)
        if os.path.exists(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                text += f.read() + "\n\n"
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    rng = random.Random(7)
    os.makedirs(root, exist_ok=True)
    for i in range(n_files):
        body, size = [], 0
        target = rng.randint(3000, 6000)
        while size < target:
            p = paras[rng.randrange(len(paras))]
            body.append(p)
            size += len(p)
        sub = os.path.join(root, f"part{i % 4}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"doc{i:03d}.txt"), "w") as f:
            f.write(f"Document {i}\n\n" + "\n\n".join(body) + "\n")


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def index_state(data):
    """{rel: (sha, [chunk texts])} of the committed index."""
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    out = {}
    for did, rel, sha in db.execute("select id, rel, sha256 from documents"):
        chunks = [t for (t,) in db.execute(
            "select text from chunks where doc_id=? order by ordinal", (did,))]
        out[rel] = (sha, chunks)
    db.close()
    return out


class Askdocs(Runner):
    def status(self, data):
        rc, out, err = self.run("status", "--data", data, "--check",
                                "--format", "json")
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, {}, err

    def search(self, data, query, mode="hybrid", k=5):
        line = json.dumps({"id": 1, "query": query}) + "\n"
        rc, out, err = self.run("search", "--data", data, "--mode", mode,
                                "--k", str(k), "--format", "jsonl",
                                stdin=line.encode())
        try:
            return rc, json.loads(out.splitlines()[0])["hits"], err
        except (ValueError, IndexError, KeyError):
            return rc, None, err


def test_kills(a, tmp, docs, kills):
    ref = os.path.join(tmp, "ref")
    rc, out, err = a.run("index", "--data", ref, "--format", "json", docs)
    check(rc == 0, "reference index built", err[-500:])
    reference = index_state(ref)
    t_full = json.loads(out.splitlines()[-1])["seconds"] if rc == 0 else 30
    data = os.path.join(tmp, "killed")
    rng = random.Random(11)
    bad = []
    mid_run = 0
    for k in range(kills):
        # even rounds start from nothing, odd rounds resume what the last
        # kill left; the kill moments spread over a whole indexing run
        if k % 2 == 0:
            shutil.rmtree(data, ignore_errors=True)
        frac = (k + rng.uniform(0.1, 0.9)) / kills
        delay = frac * t_full * (1.0 if k % 2 == 0 else 0.5)
        p = subprocess.Popen([a.exe, "index", "--data", data, "--quiet", docs],
                             env=a.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed = p.poll() is None
        mid_run += killed
        p.send_signal(signal.SIGKILL)
        p.wait()
        if not os.path.exists(os.path.join(data, "askdocs.db")):
            continue  # killed before the database existed
        rc, st, err = a.status(data)
        state = index_state(data)
        ok = rc == 0 and st.get("consistent") is True
        for rel, (sha, chunks) in state.items():
            exp = reference.get(rel)
            if exp is None or exp[0] != sha or exp[1] != chunks:
                ok = False
                err += f" document {rel} differs from the reference"
        rc2, hits, err2 = a.search(data, "warranty of merchantability")
        ok = ok and rc2 == 0 and hits is not None
        if not ok:
            bad.append((k, round(delay, 2), killed, st, err[-300:], err2[-200:]))
        print(f"     kill {k}: after {delay:.2f}s (running: {killed}), "
              f"{len(state)} documents committed, check "
              f"{'ok' if ok else 'FAILED'}", flush=True)
    check(mid_run >= kills // 2, f"{mid_run} of {kills} kills hit a running "
          "indexer", mid_run)
    check(not bad, f"after each of {kills} kills the index opens, passes "
          "status --check, searches, and holds only whole documents equal "
          "to the reference", bad[:3])
    rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
    check(rc == 0, "indexing completes after the kills", err[-300:])
    check(index_state(data) == reference,
          "the completed index equals one built without kills")
    rc, st, err = a.status(data)
    check(rc == 0 and st.get("consistent") and
          st.get("vectors") == st.get("chunks") == st.get("embeddings"),
          "vectors, chunks and embeddings agree", st)


def test_search_while_indexing(a, tmp, docs):
    data = os.path.join(tmp, "live")
    # a first document so searching can start at once
    first = os.path.join(tmp, "first")
    os.makedirs(first)
    shutil.copy(os.path.join(docs, "part0", "doc000.txt"), first)
    rc, out, err = a.run("index", "--data", data, "--quiet", first)
    check(rc == 0, "seed index", err[-300:])
    p = subprocess.Popen([a.exe, "index", "--data", data, "--quiet", docs],
                         env=a.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    searches = torn = failures = 0
    errors = []
    while p.poll() is None:
        rc, hits, err = a.search(data, "license copyright notice")
        searches += 1
        if rc != 0 or hits is None:
            failures += 1
            errors.append(err[-300:])
        # a reader's snapshot never shows half a document
        db = sqlite3.connect(os.path.join(data, "askdocs.db"))
        for n, c in db.execute(
                "select d.n_chunks, (select count(*) from chunks c where "
                "c.doc_id=d.id) from documents d"):
            torn += n != c
        db.close()
    err = p.stderr.read().decode("utf-8", "replace")
    check(p.returncode == 0, "indexing beside the readers succeeds", err[-300:])
    check(searches >= 2 and failures == 0,
          f"{searches} searches while indexing all succeed", errors[:2])
    check(torn == 0, "no reader saw a document with missing chunks", torn)


def test_moves_and_progress(a, tmp, docs):
    data = os.path.join(tmp, "moves")
    rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
    s = json.loads(out.splitlines()[-1]) if rc == 0 else {}
    check(rc == 0 and s.get("added", 0) > 0 and "failures" in s,
          "JSON summary", s)
    src = os.path.join(docs, "part1", "doc001.txt")
    dst_dir = os.path.join(docs, "moved")
    os.makedirs(dst_dir)
    dst = os.path.join(dst_dir, "renamed.txt")
    os.rename(src, dst)
    rc, out, err = a.run("index", "--data", data, "--format", "json", docs)
    s = json.loads(out.splitlines()[-1]) if rc == 0 else {}
    check(rc == 0 and s.get("moved") == 1 and s.get("added") == 0 and
          s.get("removed") == 0 and s.get("chunks") == 0,
          "a moved file is re-pointed, not re-indexed", s)
    db = sqlite3.connect(os.path.join(data, "askdocs.db"))
    rels = {r for (r,) in db.execute("select rel from documents")}
    db.close()
    check("moved/renamed.txt" in rels and "part1/doc001.txt" not in rels,
          "the document has its new path", sorted(rels)[:5])
    # a text run (not a terminal) prints plain lines, no escape codes
    with open(os.path.join(docs, "part2", "doc002.txt"), "a") as f:
        f.write("\nAddendum: the Quokka clause applies.\n")
    rc, out, err = a.run("index", "--data", data, docs)
    check(rc == 0 and "\033[" not in err and "updated: " in err and
          "1 updated" in err, "plain progress lines and summary off a terminal",
          err[-300:])
    os.rename(dst, src)
    os.rmdir(dst_dir)
    # on a terminal (a pty from util-linux' script): a progress bar redrawn
    # in place with files, MB, chunks/s and ETA
    if shutil.which("script"):
        with open(os.path.join(docs, "part3", "doc003.txt"), "a") as f:
            f.write("\nAddendum: the Numbat clause applies.\n")
        cmd = " ".join(shlex.quote(x) for x in
                       [a.exe, "index", "--data", data, docs])
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                           capture_output=True, env=a.env, timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        check(p.returncode == 0 and "\r\033[K[" in out and "ETA" in out and
              "chunks/s" in out and "files" in out and " MB" in out,
              "a progress bar on a terminal", out[-300:])


def wait_for(pred, timeout=120):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return True
        time.sleep(0.5)
    return False


def test_watch(a, tmp, docs):
    data = os.path.join(tmp, "watch")
    folder = os.path.join(tmp, "watched")
    os.makedirs(folder)
    shutil.copy(os.path.join(docs, "part0", "doc000.txt"), folder)
    p = subprocess.Popen([a.exe, "index", "--data", data, "--watch",
                          "--format", "json", folder], env=a.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def doc_count():
        try:
            db = sqlite3.connect(os.path.join(data, "askdocs.db"))
            n = db.execute("select count(*) from documents").fetchone()[0]
            db.close()
            return n
        except sqlite3.Error:
            return -1

    check(wait_for(lambda: doc_count() == 1), "--watch indexes the folder")
    sub = os.path.join(folder, "new-sub")
    os.makedirs(sub)
    time.sleep(0.3)
    with open(os.path.join(sub, "wombat.txt"), "w") as f:
        f.write("Wombat notice\n\nThe wombat indemnity survives termination.\n")

    def found():
        rc, hits, _ = a.search(data, "wombat indemnity", mode="bm25")
        return rc == 0 and hits and hits[0]["doc"].endswith("wombat.txt")

    check(wait_for(found), "a file added to a new sub-folder becomes searchable")
    os.remove(os.path.join(sub, "wombat.txt"))
    check(wait_for(lambda: doc_count() == 1), "a deleted file is removed")
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    rounds = [l for l in out.decode().splitlines() if l.startswith("{")]
    check(p.returncode == 0 and len(rounds) >= 3,
          "--watch stops cleanly on SIGTERM with a summary per round",
          (p.returncode, len(rounds), err.decode()[-300:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--askdocs", required=True)
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--files", type=int, default=24)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="askdocs-sync-")
    env = dict(os.environ)
    env.pop("ASKDOCS_CONFIG", None)
    a = Askdocs(args.askdocs, env)
    docs = os.path.join(tmp, "docs")
    try:
        make_corpus(docs, args.files)
        test_kills(a, tmp, docs, args.kills)
        test_search_while_indexing(a, tmp, docs)
        test_moves_and_progress(a, tmp, docs)
        test_watch(a, tmp, docs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
