"""Benchmark ``feedkit update`` against a loopback board: 20 list pages × 20 items + details.

Targets (issue 4): first run ≤ 10 s with the per-host delay at 0; a second run with nothing new
≤ 1 s of work beyond the requests themselves. Prints the figures; run it from the repo root:

    python bench/bench_update.py [--pages 20] [--per-page 20] [--chrome 1500]

The server is the tests' real http.server on 127.0.0.1 (in a thread of this process, so
"time in requests" includes the server's own work). Pages are padded with a site menu
(--chrome links) to the size of real city pages (~150 KB).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from loopback_server import Board, Site, board_source, serve  # noqa: E402

from feedkit.config import parse_config  # noqa: E402
from feedkit.ingest.update import run_update  # noqa: E402
from feedkit.site.build import build  # noqa: E402
from feedkit.store.articles import Store  # noqa: E402


def one_run(config, label: str) -> tuple[float, float]:
    started = time.perf_counter()
    with Store(config.store_path) as store:
        report = run_update(config, store)
        built = build(config, store)
    total = time.perf_counter() - started
    sr = report.sources[0]
    net = report.fetch.seconds
    print(f"{label:<34} {total:6.2f} s total, {net:6.2f} s in {report.fetch.requests:3d} "
          f"request(s) ({report.fetch.not_modified} × 304, {report.fetch.bytes / 1e6:5.1f} MB), "
          f"{total - net:5.2f} s other work | {sr.counts.inserted} new, "
          f"{sr.counts.unchanged + sr.skipped} unchanged, {len(sr.rejected)} rejected, "
          f"build: {len(built.written)} written")
    if sr.error or sr.rejected:
        raise SystemExit(f"benchmark run failed: {sr.error or sr.rejected[:3]}")
    return total, total - net


def scenario(pages: int, per_page: int, chrome: int, etags: bool) -> dict[str, tuple]:
    site = Site()
    with serve(site), tempfile.TemporaryDirectory() as tmp:
        board = Board(site, count=pages * per_page, per_page=per_page, body_paragraphs=8,
                      chrome_links=chrome, etags=etags)
        page_kb = len(site.routes["/board/list.do"].body) / 1024
        detail_kb = len(site.routes[board.detail_path(board.items[0])].body) / 1024
        src = board_source(board, max_pages=pages + 1)
        data = {
            "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                     "feed_url": "https://example.github.io/boryeong-news/"},
            "sources": [src],
            "fetch": {"delay": 0, "timeout": 10, "retries": 0},
        }
        config = parse_config(data, Path(tmp) / "config.toml")
        kind = "with ETag (304s)" if etags else "no ETag (known-row stop)"
        print(f"\n{pages} list pages × {per_page} items + {pages * per_page} detail pages, "
              f"{kind}; list page {page_kb:.0f} KB, detail page {detail_kb:.0f} KB")
        first = one_run(config, "first run (everything new)")
        second = one_run(config, "second run (nothing new)")
        board.add("보령시, 벤치마크 중 새 소식")
        third = one_run(config, "third run (one new article)")
        return {"first": first, "second": second, "third": third}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--per-page", type=int, default=20)
    ap.add_argument("--chrome", type=int, default=1500, help="menu links padding each page")
    args = ap.parse_args()
    results = [scenario(args.pages, args.per_page, args.chrome, etags)
               for etags in (True, False)]
    first = max(r["first"][0] for r in results)
    second_work = max(r["second"][1] for r in results)
    print(f"\nfirst run: {first:.2f} s (target ≤ 10 s) -> {'OK' if first <= 10 else 'MISSED'}")
    print(f"second run, work beyond requests: {second_work:.3f} s (target ≤ 1 s) -> "
          f"{'OK' if second_work <= 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
