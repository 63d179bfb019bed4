#!/usr/bin/env python3
"""Refusal sets: questions whose gold documents are left out of the corpus.

    refusal_set.py make --set SET --out OUT [--share 0.25] [--n 100] [--seed 1]
    refusal_set.py score --set OUT --details DETAILS.jsonl --summary SUMMARY.json

make: copies SET (an evaluation set: docs/ + questions.jsonl, the format of
the evaluation kit) to OUT without a random share of its documents. Each
question of OUT is either "heldout" (every gold document was removed: the
right answer is a refusal) or "answerable" (every gold document is still
there); questions that lose only some of their gold are left out. The two
groups are interleaved so that the first N questions hold both in equal
numbers. Nothing of SET is changed.

score: reads what the evaluation kit wrote for a run with --ask (the
per-question --details FILE and the --out summary) and prints, for the
answerable questions, the refusal rate (false refusals), citation precision
and recall and answer_contains_gold, and for the held-out ones the refusal
rate (correct refusals). The kit's details list only questions with gold
evidence, so the held-out refusals are the summary's refusal count less
the answerable ones; their citations are the summary's less the
answerable ones' (every one of them is a wrong citation).
"""
import argparse
import json
import os
import random
import shutil
import sys


def load_questions(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def make(args):
    src_docs = os.path.join(args.set, "docs")
    qs = load_questions(os.path.join(args.set, "questions.jsonl"))
    docs = sorted(os.listdir(src_docs))
    rnd = random.Random(args.seed)
    removed = set(rnd.sample(docs, max(1, int(len(docs) * args.share))))
    held, ans = [], []
    for q in qs:
        gold = {g["doc"] for g in q.get("gold", [])}
        if not gold:
            continue
        if gold <= removed:
            held.append(dict(q, group="heldout", answers=[], gold=[]))
        elif not gold & removed:
            ans.append(dict(q, group="answerable"))
    n = min(args.n, len(held), len(ans))
    if n == 0:
        sys.exit("refusal_set: no question in one of the groups; try another --share")
    out = []
    for a, h in zip(ans[:n], held[:n]):
        out += [a, h]
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "docs"))
    for d in docs:
        if d not in removed:
            s = os.path.join(src_docs, d)
            if os.path.isdir(s):
                shutil.copytree(s, os.path.join(args.out, "docs", d))
            else:
                shutil.copy2(s, os.path.join(args.out, "docs", d))
    with open(os.path.join(args.out, "questions.jsonl"), "w", encoding="utf-8") as fh:
        for q in out:
            fh.write(json.dumps(q, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(f"Refusal set made from {os.path.basename(os.path.normpath(args.set))} by "
                 f"bench/refusal_set.py (share {args.share}, seed {args.seed}): "
                 f"{len(docs) - len(removed)} of {len(docs)} documents, {n} held-out and "
                 f"{n} answerable questions, interleaved.\n")
    print(f"{args.out}: {len(docs) - len(removed)}/{len(docs)} documents, "
          f"{n} heldout + {n} answerable questions")


def score(args):
    qs = {q["id"]: q for q in load_questions(os.path.join(args.set, "questions.jsonl"))}
    with open(args.summary, encoding="utf-8") as fh:
        summ = json.load(fh)
    am = summ["answers"]
    n_all = am["n_asked"]
    ref_all = round(am["refusal_rate"] * n_all)
    cit_all = round(am["citations_per_answer"] * n_all)
    ds = []
    for line in open(args.details, encoding="utf-8"):
        d = json.loads(line)
        a = d.get("ask")
        if a and qs.get(d["id"], {}).get("group") == "answerable":
            ds.append(a)
    n = len(ds)
    ref = sum(1 for d in ds if d["refusal"])
    cits = sum(d["citations"] for d in ds)
    rel = sum(d["relevant_citations"] for d in ds)
    rel_s = sum(d["relevant_citations_strict"] for d in ds)
    gold = [d["answer_contains_gold"] for d in ds if d.get("answer_contains_gold") is not None]
    out = {"answerable": n, "false_refusal_rate": ref / n if n else None,
           "citation_precision": rel / cits if cits else None,
           "citation_precision_strict": rel_s / cits if cits else None,
           "citation_recall": sum(1 for d in ds if d["relevant_citations"]) / n if n else None,
           "answer_contains_gold": sum(gold) / len(gold) if gold else None,
           "heldout": n_all - n,
           "heldout_refusal_rate": (ref_all - ref) / (n_all - n) if n_all > n else None,
           "heldout_citations": cit_all - cits,
           "citation_precision_all": am.get("citation_precision"),
           "ttft_ms_median": am.get("ttft_ms_median"),
           "total_ms_median": am.get("total_ms_median")}
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--set", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--share", type=float, default=0.25)
    m.add_argument("--n", type=int, default=100)
    m.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("score")
    s.add_argument("--set", required=True)
    s.add_argument("--details", required=True)
    s.add_argument("--summary", required=True)
    args = ap.parse_args()
    make(args) if args.cmd == "make" else score(args)


if __name__ == "__main__":
    main()
