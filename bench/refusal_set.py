#!/usr/bin/env python3
"""Refusal sets: questions whose gold documents are left out of the corpus.

    refusal_set.py make --set SET --out OUT [--share 0.25] [--n 100] [--seed 1]
    refusal_set.py score --set OUT --details DETAILS.jsonl [--answers ANS.jsonl]

make: copies SET (an evaluation set: docs/ + questions.jsonl, the format of
the evaluation kit) to OUT without a random share of its documents. Each
question of OUT is either "heldout" (every gold document was removed: the
right answer is a refusal) or "answerable" (every gold document is still
there); questions that lose only some of their gold are left out. The two
groups are interleaved so that the first N questions hold both in equal
numbers. Nothing of SET is changed.

score: reads the per-question details the evaluation kit writes
(askdocs_eval.py --details FILE, with --ask) and prints the refusal rate of
each group: on "heldout" the share of correct refusals, on "answerable" the
share of false refusals. With --answers (the raw `askdocs ask --format
jsonl` lines) it also counts answers that are neither refusals nor cited.
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
    per = {}
    for line in open(args.details, encoding="utf-8"):
        d = json.loads(line)
        if "refusal" not in d or d["id"] not in qs:
            continue
        per.setdefault(qs[d["id"]].get("group", "?"), []).append(d)
    for g, ds in sorted(per.items()):
        n = len(ds)
        ref = sum(1 for d in ds if d["refusal"])
        cits = sum(d.get("citations", 0) for d in ds)
        rel = sum(d.get("relevant_citations", 0) for d in ds)
        rel_s = sum(d.get("relevant_citations_strict", 0) for d in ds)
        gold = [d["answer_contains_gold"] for d in ds if d.get("answer_contains_gold") is not None]
        line = f"{g}: {n} questions, refusal rate {ref / n:.3f}"
        line += " (correct refusals)" if g == "heldout" else " (false refusals)"
        if g != "heldout":
            if cits:
                line += f", citation precision {rel / cits:.3f} (strict {rel_s / cits:.3f})"
            line += f", citation recall {sum(1 for d in ds if d.get('relevant_citations')) / n:.3f}"
            if gold:
                line += f", answer contains gold {sum(gold) / len(gold):.3f} ({len(gold)} with answers)"
        else:
            line += f", citations given {cits}"
        print(line)
    if args.answers:
        bare = total = 0
        with open(args.answers, encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                total += 1
                if not o.get("refused") and not o.get("citations"):
                    bare += 1
        print(f"answers neither refused nor cited: {bare} of {total}")


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
    s.add_argument("--answers")
    args = ap.parse_args()
    make(args) if args.cmd == "make" else score(args)


if __name__ == "__main__":
    main()
