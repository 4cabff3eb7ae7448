"""A feed's own date follows edits (issue 27, item 5).

Readers that poll by date (``If-Modified-Since`` on the feed's date, or "skip the feed unless
its date moved") look at RSS ``lastBuildDate`` and Atom ``<updated>``. When an older article is
corrected after the newest one was published, those dates must move to the correction, or such
readers never fetch it. RSS ``pubDate`` stays the newest publication: nothing new was published.

Through the CLI (import, build), read back with feedparser and, for the exact element, lxml.
"""

from __future__ import annotations

import calendar
import json
from datetime import datetime

import feedparser
from conftest import Site
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
OLDER = {"title": "세무과 알림", "url": "https://www.brcn.go.kr/news/older",
         "published": "2024-06-10 09:00", "department": "세무과", "summary": "처음 안내"}
NEWEST = {"title": "관광과 알림", "url": "https://www.brcn.go.kr/news/newest",
          "published": "2024-06-14 10:00", "department": "관광과", "summary": "새 소식"}
# The correction: after the newest article was published.
EDITED = {**OLDER, "summary": "정정된 안내", "updated": "2024-06-15 08:30"}
SEOUL = "+09:00"


def _import(site: Site, tmp_path, *rows: dict) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    site.run("import", str(path))


def _epoch(local: str) -> int:
    return int(datetime.fromisoformat(local.replace(" ", "T") + SEOUL).timestamp())


def _dates(path) -> dict[str, int]:
    """The feed-level dates of an RSS or Atom file, in Unix seconds."""
    root = etree.fromstring(path.read_bytes())
    parsed = feedparser.parse(path.read_bytes())
    if root.tag == "rss":
        channel = root.find("channel")
        out = {"lastBuildDate": channel.findtext("lastBuildDate"),
               "pubDate": channel.findtext("pubDate")}
        # feedparser reads lastBuildDate as the feed's "updated", as readers do.
        assert calendar.timegm(parsed.feed.updated_parsed) == _rfc822(out["lastBuildDate"])
        return {k: _rfc822(v) for k, v in out.items()}
    updated = root.findtext(f"{ATOM}updated")
    assert calendar.timegm(parsed.feed.updated_parsed) == _iso(updated)
    return {"updated": _iso(updated)}


def _rfc822(text: str) -> int:
    from email.utils import parsedate_to_datetime

    return int(parsedate_to_datetime(text).timestamp())


def _iso(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def test_rss_and_atom_dates_move_to_an_older_articles_later_edit(tmp_path):
    site = Site(tmp_path / "site")
    _import(site, tmp_path, OLDER, NEWEST)
    site.run("build", "--now", "2024-06-20T12:00")
    out = site.out
    newest = _epoch(NEWEST["published"])
    assert _dates(out / "feed.xml") == {"lastBuildDate": newest, "pubDate": newest}
    assert _dates(out / "atom.xml") == {"updated": newest}
    tax = next(f for f in (out / "category").iterdir()
               if "세무과" in feedparser.parse((f / "feed.xml").read_bytes()).feed.title)
    assert _dates(tax / "atom.xml") == {"updated": _epoch(OLDER["published"])}

    _import(site, tmp_path, EDITED, NEWEST)
    site.run("build", "--now", "2024-06-20T12:00")
    edit = _epoch(EDITED["updated"])
    # The main feed: its date is the edit; nothing newer was published.
    assert _dates(out / "feed.xml") == {"lastBuildDate": edit, "pubDate": newest}
    assert _dates(out / "atom.xml") == {"updated": edit}
    # The edited article's category feed moves too ...
    assert _dates(tax / "feed.xml") == {"lastBuildDate": edit,
                                        "pubDate": _epoch(OLDER["published"])}
    assert _dates(tax / "atom.xml") == {"updated": edit}
    # ... and the corrected text is what a reader fetching it gets.
    [entry] = [e for e in feedparser.parse((out / "atom.xml").read_bytes()).entries
               if e.link == OLDER["url"]]
    assert entry.summary == "정정된 안내"
    assert calendar.timegm(entry.updated_parsed) == edit
    # The other category, untouched by the edit, keeps its date.
    tour = next(f for f in (out / "category").iterdir()
                if "관광과" in feedparser.parse((f / "feed.xml").read_bytes()).feed.title)
    assert _dates(tour / "atom.xml") == {"updated": newest}
