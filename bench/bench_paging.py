"""Benchmark: an endless board (issue 14, item 4). Every list page links to a next one; the
update must stop at ``max_pages``, store page by page and keep its memory flat.

The board is the tests' real http.server on 127.0.0.1, generating list page N on request (10
rows, each a new article, padded with a site menu like a real city page). ``feedkit update``
runs as a child process (``resource.getrusage`` gives its peak RSS) at two ``max_pages``
values: flat memory means the larger run peaks no higher than the smaller one, give or take
the allocator.

    python bench/bench_paging.py [--pages 100 1000] [--pythonpath OLD_TREE]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from loopback_server import Site, serve  # noqa: E402

MENU = "<nav>" + "".join(f'<a href="/menu/{i}">시정 메뉴 {i}</a>' for i in range(1500)) + "</nav>"

WRAPPER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL).returncode; "
    "print(rc, time.perf_counter() - t, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def endless(site: Site):
    def page(handler):
        n = int(handler.path.rsplit("=", 1)[1]) if "page=" in handler.path else 1
        rows = "".join(
            f'<li><a href="/view?id={n}-{i}">보령시 소식 {n}-{i} 머드축제 준비 점검</a>'
            f"<span>2025.01.{1 + (n + i) % 28:02d}</span></li>" for i in range(10))
        body = (f"<html><body>{MENU}<ul class='list'>{rows}</ul>"
                f"<a class='next' href='/list?page={n + 1}'>다음</a></body></html>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode("utf-8")

    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--pythonpath", default=str(ROOT))
    args = parser.parse_args()
    site = Site()
    with serve(site), tempfile.TemporaryDirectory(prefix="feedkit-bench-paging-") as tmp:
        handler = endless(site)
        site.handler("/list", handler)
        for n in range(2, max(args.pages) + 2):
            site.handler(f"/list?page={n}", handler)
        print(f"feedkit from {args.pythonpath}")
        print(f"{'max_pages':>9} {'pages':>6} {'stored':>7} {'seconds':>8} {'peak MiB':>9}")
        for pages in args.pages:
            folder = Path(tmp) / str(pages)
            folder.mkdir()
            (folder / "config.toml").write_text(f"""\
[site]
title = "벤치마크"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/bench/"

[fetch]
delay = 0
retries = 0

[[sources]]
kind = "html"
url = "{site.url('/list')}"
next_page = "a.next"
max_pages = {pages}

[sources.selectors]
item = "ul.list li"
title = "a"
date = "span"
""", encoding="utf-8")
            site.log.clear()
            env = {**os.environ, "PYTHONPATH": args.pythonpath}
            out = subprocess.run(
                [sys.executable, "-c", WRAPPER, sys.executable, "-m", "feedkit", "--config",
                 str(folder / "config.toml"), "-q", "update", "--no-build"],
                env=env, cwd=folder, capture_output=True, text=True, check=True).stdout.split()
            fetched = sum(1 for h in site.log if h.path.startswith("/list"))
            db = folder / "articles.db"
            stored = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0] \
                if db.exists() else 0
            print(f"{pages:>9} {fetched:>6} {stored:>7} {float(out[1]):>8.1f} "
                  f"{float(out[2]):>9.0f}   (exit {out[0]})")


if __name__ == "__main__":
    main()
