"""Category feed URLs never move (issue 9, Feeds 7): the first category to claim a slug keeps it,
the store remembers, and only a newcomer that romanises alike gets a suffix. Folders and their
contents are read back with feedparser and the store with sqlite3 or psycopg: the store's
memory of slugs is tested on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import feedparser
from conftest import Site

from feedkit.store.articles import MIGRATIONS


def _import(site: Site, tmp_path: Path, rows: list[tuple[str, str, str]], name: str) -> None:
    """rows: (category, url tail, published)."""
    src = tmp_path / f"{name}.jsonl"
    src.write_text("".join(json.dumps({
        "title": f"{cat} 소식 {tail}", "url": f"https://www.brcn.go.kr/news/{tail}",
        "published": when, "category": cat}, ensure_ascii=False) + "\n"
        for cat, tail, when in rows), encoding="utf-8")
    site.run("import", str(src))


def _folders(site: Site) -> dict[str, set[str]]:
    """Category folder -> the links its RSS feed carries."""
    out = {}
    for folder in sorted((site.out / "category").iterdir()):
        parsed = feedparser.parse((folder / "feed.xml").read_bytes())
        out[folder.name] = {e.link.rsplit("/", 1)[-1] for e in parsed.entries}
    return out


def test_a_newcomer_never_moves_an_existing_feed(tmp_path: Path, backend) -> None:
    site = Site(tmp_path / "site").use(backend)
    _import(site, tmp_path, [("세무과", "1", "2025-12-01 09:00")], "first")
    site.run("build")
    assert _folders(site) == {"semugwa": {"1"}}
    # Later: a category "Semugwa" appears, and 세무과 publishes again.
    _import(site, tmp_path, [("Semugwa", "2", "2025-12-02 09:00"),
                             ("세무과", "3", "2025-12-03 09:00")], "second")
    site.run("build")
    got = _folders(site)
    assert got.pop("semugwa") == {"1", "3"}  # same URL, and it keeps getting news
    [(newcomer, links)] = got.items()
    assert re.fullmatch(r"semugwa-[0-9a-f]{8}", newcomer) and links == {"2"}
    assert dict(site.rows("SELECT category, slug FROM category_slugs")) == {
        "세무과": "semugwa", "Semugwa": newcomer}


def test_of_two_at_once_the_one_published_first_keeps_the_plain_slug(tmp_path: Path,
                                                                     backend) -> None:
    site = Site(tmp_path / "site").use(backend)
    _import(site, tmp_path, [("세무과", "b", "2025-12-05 09:00"),
                             ("Semugwa", "a", "2025-11-20 09:00")], "both")
    site.run("build")
    got = _folders(site)
    assert got.pop("semugwa") == {"a"}
    assert [re.fullmatch(r"semugwa-[0-9a-f]{8}", k) is not None for k in got] == [True]


def test_a_remembered_slug_survives_its_category_going_quiet(tmp_path: Path, backend) -> None:
    """The store remembers: with the config's override gone, 세무과 gets back 'semugwa' and a
    newcomer that took no part in the first build cannot take it."""
    site = Site(tmp_path / "site").use(backend)
    _import(site, tmp_path, [("세무과", "1", "2025-12-01 09:00")], "first")
    site.run("build")
    site.edit_config(("[feeds]\n", '[feeds]\ncategory_slugs = { "세무과" = "tax" }\n'))
    _import(site, tmp_path, [("Semugwa", "2", "2025-12-02 09:00")], "second")
    site.run("build")
    got = _folders(site)
    # semugwa/ still holds what 세무과 last published there: never another category's news.
    assert got["tax"] == {"1"} and got["semugwa"] == {"1"}
    site.edit_config(('category_slugs = { "세무과" = "tax" }\n', ""))
    site.run("build")
    got = _folders(site)
    assert got["semugwa"] == {"1"}
    [newcomer] = [k for k, v in got.items() if v == {"2"}]
    assert re.fullmatch(r"semugwa-[0-9a-f]{8}", newcomer)


def test_a_store_from_before_the_rule_keeps_its_published_urls(tmp_path: Path) -> None:
    """An older feedkit gave both clashing names a hash; upgrading must not move either.
    (SQLite only: no PostgreSQL store predates the rule, the backend came later.)"""
    site = Site(tmp_path / "site")
    with sqlite3.connect(site.db) as db:
        db.executescript(MIGRATIONS[0])
        for cat, tail in (("세무과", "1"), ("Semugwa", "2")):
            db.execute(
                "INSERT INTO articles (id, url, title, published, published_ts, updated, "
                "updated_ts, category, hash, first_seen, last_changed) "
                "VALUES (?, ?, ?, '2025-12-01T09:00:00+09:00', 1764547200, "
                "'2025-12-01T09:00:00+09:00', 1764547200, ?, ?, '', '')",
                (tail, f"https://www.brcn.go.kr/news/{tail}", f"{cat} 소식", cat, tail))
        db.execute("PRAGMA user_version = 1")
    site.run("build")
    got = _folders(site)
    assert "semugwa" not in got and len(got) == 2
    assert all(re.fullmatch(r"semugwa-[0-9a-f]{8}", k) for k in got)
    assert sorted(got.values(), key=sorted) == [{"1"}, {"2"}]
    # And a rebuild (now from the remembered table) changes nothing.
    site.run("build")
    assert _folders(site) == got
