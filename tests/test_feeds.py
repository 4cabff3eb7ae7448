"""Built feeds, read back by a real feed client (feedparser), must say what the store holds."""

from __future__ import annotations

import calendar
import json
import re
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from conftest import Site

SITE_URL = "https://www.brcn.go.kr/"
FEED_URL = "https://news.example.org/boryeong/"


def stored(site: Site) -> dict[str, dict]:
    rows = site.rows("SELECT id, url, title, published, updated, category, summary FROM articles")
    return {r[0]: dict(zip(("id", "url", "title", "published", "updated", "category",
                            "summary"), r, strict=True)) for r in rows}


def feed_files(out: Path) -> list[Path]:
    """The article feeds (the digest archive's own feed is tested with the digest)."""
    return sorted(p for p in out.rglob("*") if p.name in ("feed.xml", "atom.xml")
                  and "digest" not in p.relative_to(out).parts)


def epoch(struct) -> int:
    return calendar.timegm(struct)


def test_every_feed_round_trips_through_feedparser(built_site: Site) -> None:
    db = stored(built_site)
    files = feed_files(built_site.out)
    categories = {r["category"] for r in db.values() if r["category"]}
    # main + one folder per category, each in RSS and Atom
    assert len(files) == 2 * (1 + len(categories))
    for path in files:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        rel = path.relative_to(built_site.out).as_posix()
        assert parsed.version in ("rss20", "atom10")
        assert parsed.feed.language == "ko"
        assert parsed.feed.link == SITE_URL
        selfs = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert selfs == [FEED_URL + rel]
        entries = parsed.entries
        expected = [r for r in db.values()
                    if rel.count("/") == 0 or r["category"] in entry_categories(entries)]
        assert len(entries) == len(expected)
        published = [epoch(e.published_parsed) for e in entries]
        assert published == sorted(published, reverse=True), "newest first"
        for entry in entries:
            row = db[entry.id]
            assert entry.title == row["title"]
            assert entry.link == row["url"]
            assert epoch(entry.published_parsed) == int(
                datetime.fromisoformat(row["published"]).timestamp())
            if row["category"]:
                assert [t.term for t in entry.tags] == [row["category"]]
        # The feed's own date is its newest item's `updated`, never the build time.
        newest = max(int(datetime.fromisoformat(db[e.id]["updated"]).timestamp())
                     for e in entries)
        assert epoch(parsed.feed.updated_parsed) == newest


def entry_categories(entries) -> set[str]:
    return {t.term for e in entries for t in e.get("tags", [])}


def test_category_feeds_hold_only_their_category(built_site: Site) -> None:
    db = stored(built_site)
    for folder in (built_site.out / "category").iterdir():
        parsed = feedparser.parse((folder / "atom.xml").read_bytes())
        cats = {t.term for e in parsed.entries for t in e.tags}
        assert len(cats) == 1
        (cat,) = cats
        assert {e.id for e in parsed.entries} == {i for i, r in db.items() if r["category"] == cat}
        assert re.fullmatch(r"[a-z0-9-]+", folder.name), "slugs are ASCII path segments"


def test_atom_is_html_content_and_rss_has_content_encoded(site: Site, tmp_path: Path) -> None:
    src = tmp_path / "rich.jsonl"
    src.write_text(json.dumps({
        "title": "본문 있는 기사", "url": "https://a.example/rich", "published": "2024-06-11 10:00",
        "summary": "요약 & <요약>", "content_html": "<p>본문 <a href='/x'>링크</a></p>",
        "image": "https://a.example/lead.jpg"}, ensure_ascii=False), encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    atom = (site.out / "atom.xml").read_text(encoding="utf-8")
    assert '<content type="html">' in atom and "CDATA" not in atom
    rss = (site.out / "feed.xml").read_text(encoding="utf-8")
    assert "<content:encoded>" in rss
    for raw in (atom, rss):
        parsed = feedparser.parse(raw)
        entry = next(e for e in parsed.entries if e.link == "https://a.example/rich")
        assert entry.summary == "요약 &amp; &lt;요약&gt;" or entry.summary == "요약 & <요약>"
        assert 'href="https://a.example/x"' in entry.content[0].value
        assert entry.media_content[0]["url"] == "https://a.example/lead.jpg"


def test_json_feed_matches_the_store(built_site: Site) -> None:
    db = stored(built_site)
    feed = json.loads((built_site.out / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == FEED_URL + "feed.json"
    assert feed["language"] == "ko"
    assert {i["id"] for i in feed["items"]} == set(db)
    for item in feed["items"]:
        row = db[item["id"]]
        assert item["title"] == row["title"]
        assert datetime.fromisoformat(item["date_published"]) == datetime.fromisoformat(
            row["published"])


def test_feeds_carry_no_stylesheet_by_default(built_site: Site) -> None:
    """Chromium covers XSLT-styled feeds with a removal banner (issue 9, Feeds 8)."""
    for path in [*feed_files(built_site.out), built_site.out / "digest" / "feed.xml"]:
        assert b"xml-stylesheet" not in path.read_bytes()[:300], path
    assert not (built_site.out / "feed.xsl").exists()


def _with_stylesheet(site: Site) -> Site:
    site.edit_config(("[feeds]\n", "[feeds]\nstylesheet = true\n"))
    site.run("build")
    return site


def test_stylesheet_on_request_links_every_feed_to_feed_xsl(built_site: Site) -> None:
    _with_stylesheet(built_site)
    for path in [*feed_files(built_site.out), built_site.out / "digest" / "feed.xml"]:
        head = path.read_bytes()[:200].decode("utf-8")
        match = re.search(r'<\?xml-stylesheet type="text/xsl" href="([^"]+)"\?>', head)
        assert match, path
        assert (path.parent / match.group(1)).resolve() == (built_site.out / "feed.xsl").resolve()


def test_feed_limit_is_respected(tmp_path: Path) -> None:
    site = Site(tmp_path, limit=3)
    site.run("import")
    site.run("build")
    parsed = feedparser.parse((site.out / "feed.xml").read_bytes())
    newest = [r[0] for r in site.rows(
        "SELECT title FROM articles ORDER BY published_ts DESC LIMIT 3")]
    assert [e.title for e in parsed.entries] == newest


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "feed.json"])
def test_non_url_ids_become_valid_stable_uris(site: Site, tmp_path: Path, name: str) -> None:
    src = tmp_path / "ids.jsonl"
    src.write_text('{"id": "board-17 #3", "title": "t", "url": "https://a.example/17",'
                   ' "published": "2024-06-11"}\n', encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    first = (site.out / name).read_bytes()
    if name == "atom.xml":
        entry = next(e for e in feedparser.parse(first).entries if e.link.endswith("/17"))
        assert entry.id.startswith("urn:uuid:")
    elif name == "feed.xml":
        assert b'<guid isPermaLink="false">board-17 #3</guid>' in first
    site.run("build", "--out", str(tmp_path / "again"))
    assert (tmp_path / "again" / name).read_bytes() == first


def test_same_day_articles_keep_their_real_updated(site: Site, tmp_path: Path) -> None:
    """No invented times (issue 9 #2): five date-only articles all show the midnight their
    source gave; the validator's DuplicateUpdated warning is the honest price."""
    src = tmp_path / "sameday.jsonl"
    src.write_text("".join(
        json.dumps({"title": f"기사 {i}", "url": f"https://a.example/d{i}",
                    "published": "2025-12-05"}) + "\n" for i in range(5)), encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    for name, field in (("atom.xml", "updated"), ("feed.json", None)):
        data = (site.out / name).read_bytes()
        if field:
            entries = feedparser.parse(data).entries
            values = [e.updated for e in entries if e.link.startswith("https://a.example/d")]
        else:
            values = [i["date_modified"] for i in json.loads(data)["items"]
                      if i["url"].startswith("https://a.example/d")]
        assert values == ["2025-12-05T00:00:00+09:00"] * 5, name


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_stylesheet_renders_a_readable_korean_page(built_site: Site, name: str) -> None:
    """Run the XSL with a real XSLT 1.0 processor (libxslt, as browsers use)."""
    from lxml import etree

    _with_stylesheet(built_site)
    transform = etree.XSLT(etree.parse(str(built_site.out / "feed.xsl")))
    page = str(transform(etree.parse(str(built_site.out / name))))
    assert '<html lang="ko">' in page
    assert "피드 리더" in page  # explains what a feed is and how to subscribe
    assert f"{FEED_URL}{name}" in page  # the address to copy
    for title, published in built_site.rows("SELECT title, published FROM articles"):
        assert title.replace("&", "&amp;") in page or title in page
        day = datetime.fromisoformat(published)
        assert f"{day.year}년 {day.month}월 {day.day}일" in page


def test_stylesheet_speaks_the_feeds_language(tmp_path: Path) -> None:
    from lxml import etree

    site = Site(tmp_path)
    site.edit_config(('language = "ko"', 'language = "en"'))
    src = tmp_path / "en.jsonl"
    src.write_text('{"title": "Bin collection changes", "url": "https://council.example/7", '
                   '"published": "2024-06-11 14:30"}\n', encoding="utf-8")
    site.run("import", str(src))
    _with_stylesheet(site)
    transform = etree.XSLT(etree.parse(str(site.out / "feed.xsl")))
    for name in ("feed.xml", "atom.xml"):
        page = str(transform(etree.parse(str(site.out / name))))
        assert '<html lang="en">' in page and "This page is a news feed" in page
        assert "피드 리더" not in page and "년 " not in page
        assert "Bin collection changes" in page
        assert ("Tue, 11 Jun 2024" if name == "feed.xml" else "2024-06-11") in page
