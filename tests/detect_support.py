"""Run ``feedkit source detect`` and then ``update`` with the block it printed, against a board
layout served on loopback (:mod:`board_layouts`), and score every stored article against the
truth: right title, right link (it opens that very article), right date, right department, and
nothing stored that is not an article of the board (a menu entry, a sidebar story, a second
copy of a pinned notice). Used by tests/test_detect_layouts.py and bench/bench_detect.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from board_layouts import Board
from click.testing import CliRunner

from feedkit.cli import cli

SEOUL = ZoneInfo("Asia/Seoul")
SITE = """[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"
email = "news@example.org"

[store]
path = "articles.db"

[fetch]
delay = 0
timeout = 5
retries = 0
"""


def write_config(folder: Path, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(SITE + extra, encoding="utf-8")
    return path


def detect(config: Path, url: str, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "source", "detect", url, *args])


def update(config: Path):
    return CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build", "--full"])


@dataclass
class Score:
    expected: int = 0
    stored: int = 0
    right: int = 0                     # title, link, date and department all right
    title: int = 0
    link: int = 0
    date: int = 0
    department: int = 0
    body: int = 0                      # the article's text is in the body, the portal is not
    not_articles: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    departments: set[str] = field(default_factory=set)     # every department stored

    @property
    def share(self) -> float:
        return self.right / self.expected if self.expected else 0.0

    def line(self, name: str) -> str:
        return (f"{name:18} {self.right:3}/{self.expected:<3} right ({self.share:6.1%}); "
                f"title {self.title}, link {self.link}, date {self.date}, "
                f"department {self.department}, body {self.body}; "
                f"{len(self.not_articles)} not articles")


def score(board: Board, db_path: Path, max_pages: int, *, title_of=None,
          department_of=None) -> Score:
    """What the store holds against what the board's first ``max_pages`` pages list.
    ``title_of`` / ``department_of``: the truth as the board displays it, where that is more
    than the article's own title or office (a "[보도]" tag inside the title link)."""
    title_of = title_of or (lambda a: a.title)
    department_of = department_of or (lambda a: a.department)
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    rows = list(db.execute("SELECT url, title, published, category, content_html FROM articles"))
    expected = board.expected(max_pages)
    out = Score(expected=len(expected), stored=len(rows),
                departments={r["category"] for r in rows})
    by_article: dict[int, sqlite3.Row] = {}
    for row in rows:
        article = board.resolve(row["url"])
        if article is None or article.id in by_article:
            out.not_articles.append(f"{row['url']} {row['title']!r}")
            continue
        by_article[article.id] = row
    for a in expected:
        row = by_article.get(a.id)
        if row is None:
            out.wrong.append(f"missing: {a.id} {a.title!r}")
            continue
        ok_title = row["title"] == " ".join(title_of(a).split())
        published = datetime.fromisoformat(row["published"]).astimezone(SEOUL)
        ok_date = published.date() == a.when.date() and (
            (published.hour, published.minute) in ((0, 0), (a.when.hour, a.when.minute)))
        ok_dept = row["category"] == department_of(a)
        ok_body = a.paragraphs[0][:30] in row["content_html"] and "개인정보처리방침" not in \
            row["content_html"]
        out.link += 1
        out.title += ok_title
        out.date += ok_date
        out.department += ok_dept
        out.body += ok_body
        if ok_title and ok_date and ok_dept:
            out.right += 1
        else:
            out.wrong.append(f"{a.id}: title {row['title']!r} (want {a.title!r}) date "
                             f"{row['published']} (want {a.when}) dept {row['category']!r} "
                             f"(want {a.department!r})")
    return out
