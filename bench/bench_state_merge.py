"""Benchmark the merge of the store's text files after a push that landed during a CI run
(issue 22 item 1): what `feedkit state save` adds to a run when its push is rejected.

Synthetic files of a big city after a year: --articles articles, a send log of --weeks weekly
digests to --readers readers, with the run having fetched 50 new articles and sent this week's
digest, and the remote holding an editor's withdrawal and approval. Prints each file's size and
the merge time (best of --repeat) and the peak memory of the merge.

Usage: python bench/bench_state_merge.py [--articles 20000] [--readers 5000] [--weeks 52]
       [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedkit.site.textstate import merge_text


def _article(i: int, title: str = "", withdrawn: bool = False) -> str:
    record = {"id": f"https://www.example.go.kr/news/{i:07d}",
              "url": f"https://www.example.go.kr/news/{i:07d}", "title": title or f"소식 {i}",
              "summary": "보령시 " * 20, "content_html": "<p>" + "본문 " * 200 + "</p>",
              "published": "2025-01-02T10:00:00+09:00", "updated": "2025-01-02T10:00:00+09:00",
              "author": "", "category": "홍보담당관", "tags": [], "image": ""}
    if withdrawn:
        record["withdrawn"] = {"at": "2025-01-06T01:00:00+00:00", "reason": "정정"}
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def _row(week: int, reader: int) -> str:
    return json.dumps({"week": f"2024-W{week:02d}", "recipient": f"hmac-sha256:{reader:064x}",
                       "message_id": f"<digest.{week}.{reader}@example.org>", "status": "sent",
                       "attempts": 1, "error": "", "updated_at": "2024-12-30T00:17:00+00:00"}
                      ) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=20000)
    ap.add_argument("--readers", type=int, default=5000)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.articles
    base_articles = "".join(_article(i) for i in range(n))
    ours_articles = base_articles + "".join(_article(n + i) for i in range(50))
    theirs_articles = "".join(_article(i, withdrawn=(i == 7)) for i in range(n))
    old = "".join(_row(w, r) for w in range(1, args.weeks) for r in range(args.readers))
    ours_log = old + "".join(_row(args.weeks, r) for r in range(args.readers))
    approval = json.dumps({"week": "2025-W02", "kind": "approval", "approved": True,
                           "changed_at": "2025-01-06T00:30:00+00:00"}) + "\n"
    cases = [("articles", base_articles, ours_articles, theirs_articles),
             ("send-log", old, ours_log, old),
             ("editorial", "", "", approval)]
    for kind, base, ours, theirs in cases:
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            merged = merge_text(kind, base, ours, theirs)
            best = min(best, time.perf_counter() - t0)
        tracemalloc.start()
        merge_text(kind, base, ours, theirs)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{kind:10} {len(ours.encode()) / 2**20:7.1f} MiB ours, "
              f"{merged.count(chr(10)):8,} records merged: {best:6.2f} s best of {args.repeat}, "
              f"peak {peak / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
