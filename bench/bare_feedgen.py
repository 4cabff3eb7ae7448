"""The yardstick: the least a script needs to write the same feeds with feedgen directly.

Reads the latest 50 articles overall and per category from an SQLite table (as sqlite-utils
created it) and writes main + per-category RSS and Atom files. feedkit's build must stay within
1.5x of this.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator

SEOUL = ZoneInfo("Asia/Seoul")


def write(rows, out: Path, title: str) -> None:
    fg = FeedGenerator()
    fg.id("https://example.github.io/bench/" + out.as_posix())
    fg.title(title)
    fg.link(href="https://example.github.io/bench/feed.xml", rel="self")
    fg.link(href="https://www.brcn.go.kr/", rel="alternate")
    fg.description(title)
    fg.language("ko")
    fg.author({"name": "보령시"})
    newest = None
    for id_, url, t, summary, content, published, category in rows:
        dt = datetime.fromisoformat(published).replace(tzinfo=SEOUL)
        newest = max(newest, dt) if newest else dt
        fe = fg.add_entry(order="append")
        fe.id(id_)
        fe.title(t)
        fe.link(href=url)
        fe.summary(summary)
        fe.content(content, type="html")
        fe.published(dt)
        fe.updated(dt)
        fe.category(term=category)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    out.mkdir(parents=True, exist_ok=True)
    fg.rss_file(str(out / "feed.xml"), pretty=True)
    fg.atom_file(str(out / "atom.xml"), pretty=True)


def main(db_path: str, out_dir: str) -> None:
    db = sqlite3.connect(db_path)
    out = Path(out_dir)
    cols = "id, url, title, summary, content_html, published, category"
    write(db.execute(f"SELECT {cols} FROM articles ORDER BY published DESC LIMIT 50"), out,
          "all")
    for (cat,) in db.execute("SELECT DISTINCT category FROM articles").fetchall():
        rows = db.execute(f"SELECT {cols} FROM articles WHERE category = ? "
                          "ORDER BY published DESC LIMIT 50", (cat,)).fetchall()
        write(rows, out / "category" / str(abs(hash(cat))), cat)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
