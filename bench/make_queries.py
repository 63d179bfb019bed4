#!/usr/bin/env python3
"""bench/make_queries.py DATA_DIR N [SEED] > queries.jsonl

Known-item queries for the latency and recall benches: the first eight
words of N chunks drawn at random (fixed seed) from an index's chunks
table. Standard library only; reads askdocs.db read-only."""
import json
import random
import sqlite3
import sys


def main():
    data, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    db = sqlite3.connect(f"file:{data}/askdocs.db?mode=ro", uri=True)
    ids = [r[0] for r in db.execute("SELECT id FROM chunks")]
    rng = random.Random(seed)
    for cid in rng.sample(ids, min(n, len(ids))):
        text = db.execute("SELECT text FROM chunks WHERE id = ?",
                          (cid,)).fetchone()[0]
        words = [w for w in text.split() if any(c.isalnum() for c in w)]
        if len(words) >= 3:
            print(json.dumps({"query": " ".join(words[:8])}))


if __name__ == "__main__":
    main()
