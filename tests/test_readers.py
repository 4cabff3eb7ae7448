"""What real feed readers get (issue 9, Feeds 1, 2 and 6): newsboat and feedparser.

newsboat (the Debian package) fetches the built feeds from a loopback HTTP server into its own
SQLite cache, which the test then reads with sqlite3: the dates and authors a newsboat user sees.
Each feed gets its own cache because newsboat treats a guid as global across feeds.

Measured with newsboat 2.21: it reads ``…T22:05:38.900000+09:00`` as UTC (9 h late) and keeps an
RSS enclosure only for podcast types (audio/video), so the lead image is checked with feedparser.
"""

from __future__ import annotations

import calendar
import json
import sqlite3
import subprocess
from pathlib import Path

import feedparser
import pytest
from conftest import Site
from loopback_server import Site as HttpSite
from loopback_server import serve
from tools import newsboat

# 2025-12-17 22:05:38 in Seoul (UTC+9) is 13:05:38 UTC: worked out by hand.
WHOLE = "2025-12-17T22:05:38+09:00"
WHOLE_EPOCH = calendar.timegm((2025, 12, 17, 13, 5, 38, 0, 0, 0))
IMAGE = "https://www.brcn.go.kr/images/lead.jpg"

RECORDS = [
    # A fraction of a second, by the site's own author (no department).
    {"id": "frac", "title": "분수 초", "url": "https://a.example/frac",
     "published": "2025-12-17T22:05:38.900+09:00", "summary": "AT&T 요금 안내"},
    # The same whole second, a smaller fraction: ties are broken by id (descending).
    {"id": "frac2", "title": "같은 초", "url": "https://a.example/frac2",
     "published": "2025-12-17T22:05:38.100+09:00", "category": "세무과", "image": IMAGE},
    # A named author and a department.
    {"id": "named", "title": "담당자 있음", "url": "https://a.example/named",
     "published": "2025-12-16T09:00:00+09:00", "author": "홍길동", "category": "관광과"},
]


@pytest.fixture
def reader_site(tmp_path: Path) -> Site:
    site = Site(tmp_path / "site")
    src = tmp_path / "readers.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                   encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    return site


def _newsboat_items(site: Site, name: str, tmp_path: Path) -> dict[str, tuple]:
    """article URL -> (pubDate epoch, author, enclosure_url) as newsboat stored them."""
    exe = newsboat()
    http = HttpSite()
    http.page("/" + name, (site.out / name).read_bytes(),
              content_type="application/xml; charset=utf-8")
    home = tmp_path / f"home-{name}"
    home.mkdir()
    cache = home / "cache.db"
    with serve(http):
        urls = home / "urls"
        urls.write_text(http.url("/" + name) + "\n", encoding="utf-8")
        subprocess.run([exe, "-u", str(urls), "-c", str(cache), "-C", "/dev/null", "-x",
                        "reload"], check=True, timeout=60, capture_output=True,
                       env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT url, pubDate, author, enclosure_url FROM rss_item").fetchall()
    return {url.rsplit("/", 1)[-1]: (ts, author, enc) for url, ts, author, enc in rows}


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_newsboat_reads_the_real_second(reader_site: Site, name: str, tmp_path: Path) -> None:
    items = _newsboat_items(reader_site, name, tmp_path)
    # Not 32,400 s late: the fraction is gone, and newsboat reads the offset.
    assert items["frac"][0] == items["frac2"][0] == WHOLE_EPOCH
    assert len(items) == 3


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_newsboat_shows_an_author_for_every_item(reader_site: Site, name: str,
                                                 tmp_path: Path) -> None:
    items = _newsboat_items(reader_site, name, tmp_path)
    assert {guid: v[1] for guid, v in items.items()} == {
        "frac": "보령시 새소식",   # the site's own: [site] author defaults to the title
        "frac2": "세무과",          # no author: the department
        "named": "홍길동",
    }


def test_whole_seconds_in_every_format(reader_site: Site) -> None:
    out = reader_site.out
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    rss = (out / "feed.xml").read_text(encoding="utf-8")
    data = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert ".9" not in atom and ".1" not in atom.replace("1.0", "")
    assert f"<updated>{WHOLE}</updated>" in atom and f"<published>{WHOLE}</published>" in atom
    assert "Wed, 17 Dec 2025 22:05:38 +0900" in rss
    dates = {i["id"]: (i["date_published"], i["date_modified"]) for i in data["items"]}
    assert dates["frac"] == (WHOLE, WHOLE) and dates["frac2"] == (WHOLE, WHOLE)
    # Items are ordered by the second they show; equal seconds by id, descending.
    for name in ("feed.xml", "atom.xml"):
        links = [e.link for e in feedparser.parse((out / name).read_bytes()).entries]
        assert [i.rsplit("/", 1)[-1] for i in links] == ["frac2", "frac", "named"], name
    assert [i["id"] for i in data["items"]] == ["frac2", "frac", "named"]


def test_lead_image_reaches_readers_in_every_format(reader_site: Site) -> None:
    out = reader_site.out
    for name in ("feed.xml", "atom.xml"):
        entries = {e.link: e for e in feedparser.parse((out / name).read_bytes()).entries}
        with_image = entries["https://a.example/frac2"]
        assert [(x.href, x.type) for x in with_image.enclosures] == [(IMAGE, "image/jpeg")]
        # The article link is still the article, not the picture.
        assert with_image.link == "https://a.example/frac2"
        assert entries["https://a.example/named"].enclosures == []
    rss = (out / "feed.xml").read_text(encoding="utf-8")
    assert f'<enclosure url="{IMAGE}" length="0" type="image/jpeg"/>' in rss
    items = {i["id"]: i for i in json.loads((out / "feed.json").read_bytes())["items"]}
    assert items["frac2"]["image"] == IMAGE and "image" not in items["named"]


def test_every_rss_item_has_a_creator_feedparser(reader_site: Site) -> None:
    parsed = feedparser.parse((reader_site.out / "feed.xml").read_bytes())
    assert {e.id: e.author for e in parsed.entries} == {
        "frac": "보령시 새소식", "frac2": "세무과", "named": "홍길동"}
