"""`feedkit build`: the output folder, determinism, atomicity, skip-unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Site

from feedkit.errors import FeedkitError
from feedkit.site.output import MANIFEST, safe_relpath, write_atomic


def snapshot(out: Path) -> dict[str, tuple[str, int, int]]:
    """path -> (sha256, inode, mtime_ns) of every file."""
    result = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            st = p.stat()
            result[p.relative_to(out).as_posix()] = (
                hashlib.sha256(p.read_bytes()).hexdigest(), st.st_ino, st.st_mtime_ns)
    return result


def test_output_folder_layout(built_site: Site) -> None:
    files = set(snapshot(built_site.out))
    assert {"index.html", "feeds.html", "feed.xml", "atom.xml", "feed.json"} <= files
    assert "feed.xsl" not in files  # only with [feeds] stylesheet = true
    cats = [r[0] for r in built_site.rows("SELECT DISTINCT category FROM articles "
                                          "WHERE category != ''")]
    folders = {f.split("/")[1] for f in files if f.startswith("category/")}
    assert len(folders) == len(cats)
    for folder in folders:
        assert {f"category/{folder}/{n}" for n in ("feed.xml", "atom.xml", "feed.json",
                                                   "index.html")} <= files
    assert not [f for f in files if f.endswith(".tmp")], "no temporary files left behind"


def test_second_build_rewrites_nothing(built_site: Site) -> None:
    before = snapshot(built_site.out)
    result = built_site.run("build")
    assert "0 written" in result.output
    assert snapshot(built_site.out) == before


def test_builds_are_byte_identical_across_stores_and_folders(built_site: Site,
                                                             tmp_path: Path) -> None:
    """Same data + config + templates → same bytes, even from a fresh store and folder."""
    other = Site(tmp_path / "other")
    other.config.write_text(built_site.config.read_text(encoding="utf-8"), encoding="utf-8")
    other.run("import")
    other.run("build")
    ours = {k: v[0] for k, v in snapshot(built_site.out).items()}
    theirs = {k: v[0] for k, v in snapshot(other.out).items()}
    assert ours == theirs


def test_changed_article_rewrites_only_what_shows_it(built_site: Site, tmp_path: Path) -> None:
    before = snapshot(built_site.out)
    row = built_site.rows("SELECT id, url, title, published, category FROM articles "
                          "WHERE category = '' ORDER BY published_ts LIMIT 1")[0]
    src = tmp_path / "edit.jsonl"
    src.write_text(json.dumps({"id": row[0], "url": row[1], "title": row[2] + " (수정)",
                               "published": row[3]}, ensure_ascii=False), encoding="utf-8")
    built_site.run("import", str(src))
    built_site.run("build")
    after = snapshot(built_site.out)
    changed = {k for k in after if after[k] != before.get(k)}
    year, week, _ = datetime.fromisoformat(row[3]).isocalendar()
    must = {"feed.xml", "atom.xml", "feed.json", "index.html", "feeds.html",
            f"digest/{year}-W{week:02d}.html"}
    may = {"digest/index.html", "digest/feed.xml"}  # they list that week's headlines
    assert must <= changed <= must | may, changed


def test_deleted_output_file_is_restored(built_site: Site) -> None:
    (built_site.out / "atom.xml").unlink()
    built_site.run("build")
    assert (built_site.out / "atom.xml").is_file()


def test_failed_build_leaves_previous_output_intact(built_site: Site, tmp_path: Path) -> None:
    before = snapshot(built_site.out)
    broken = tmp_path / "mytemplates"
    broken.mkdir()
    (broken / "index.html.j2").write_text("{% for x in %}", encoding="utf-8")
    built_site.edit_config(('[build]\nout = "public"',
                            f'[build]\nout = "public"\ntemplates = "{broken}"'))
    # Something changed too, so the feeds would be rewritten if the build got that far.
    src = tmp_path / "new.jsonl"
    src.write_text('{"title": "새 기사", "url": "https://a.example/n", "published": "2025-01-01"}',
                   encoding="utf-8")
    built_site.run("import", str(src))
    result = built_site.run("build", ok=False)
    assert result.exit_code == 1
    assert "index.html.j2:1: template error" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(built_site.out) == before


def test_user_templates_override_bundled_ones(built_site: Site, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html.j2").write_text("<p>{{ site.title }} — {{ articles|length }}</p>\n",
                                        encoding="utf-8")
    built_site.edit_config(('[build]\nout = "public"',
                            f'[build]\nout = "public"\ntemplates = "{mine}"'))
    built_site.run("build")
    index = (built_site.out / "index.html").read_text(encoding="utf-8")
    assert index == "<p>보령시 새소식 — 7</p>\n"
    # The feed page was not overridden, so the bundled template is used.
    assert "피드로 새 소식 받아 보기" in (built_site.out / "feeds.html").read_text("utf-8")


class _IndexParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.alternates: list[dict] = []
        self.links: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append(a)
        if tag == "a":
            self.links.append(a["href"])


def test_index_page_lists_news_and_every_feed(built_site: Site) -> None:
    html = (built_site.out / "index.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    parser = _IndexParser()
    parser.feed(html)
    assert parser.lang == "ko"
    assert {a["type"] for a in parser.alternates} == {
        "application/rss+xml", "application/atom+xml", "application/feed+json"}
    for a in parser.alternates:
        assert a["href"].startswith("https://news.example.org/boryeong/")
    for (url,) in built_site.rows("SELECT url FROM articles"):
        assert url in parser.links
    feeds = {p.relative_to(built_site.out).as_posix() for p in built_site.out.rglob("*")
             if p.name in ("feed.xml", "atom.xml", "feed.json")}
    assert feeds <= set(parser.links)
    assert "2024년 12월 20일 (금)" in html  # Korean dates


def test_empty_store_is_a_clear_error(site: Site) -> None:
    result = site.run("build", ok=False)
    assert result.exit_code == 1
    assert "the article store is empty" in result.stderr


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../b", "", "a//b", "./a",
                                 "category\\..\\..\\x", "feed.xml\x00.html"])
def test_output_paths_cannot_escape(bad: str) -> None:
    with pytest.raises(FeedkitError, match=r"^refusing unsafe output path "):
        safe_relpath(bad)


def test_write_atomic_skips_identical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "a" / "f.txt"
    assert write_atomic(target, b"one") is True
    mtime = target.stat().st_mtime_ns
    assert write_atomic(target, b"one") is False
    assert target.stat().st_mtime_ns == mtime
    assert write_atomic(target, b"two") is True
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_build_into_another_folder(built_site: Site, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    built_site.run("build", "--out", str(other))
    assert (other / "feed.xml").read_bytes() == (built_site.out / "feed.xml").read_bytes()
    shutil.rmtree(other)


def test_hand_edited_output_is_rebuilt(built_site: Site) -> None:
    """The build remembers each file's size and mtime; a touched file is rendered again."""
    feed = built_site.out / "feed.xml"
    original = feed.read_bytes()
    feed.write_bytes(original.replace("보령시".encode(), b"XXXXXX"))
    built_site.run("build")
    assert feed.read_bytes() == original


def test_a_site_in_another_language_and_timezone(tmp_path: Path) -> None:
    """Korean first, not Korean only: an English site in London gets English everywhere."""
    site = Site(tmp_path)
    site.edit_config(('language = "ko"', 'language = "en-GB"'),
                     ('timezone = "Asia/Seoul"', 'timezone = "Europe/London"'))
    src = tmp_path / "en.jsonl"
    src.write_text('{"title": "Council tax bands", "url": "https://council.example/1", '
                   '"published": "2024-06-11 14:30", "category": "Finance"}\n', encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in index
    assert "Tue 11 Jun 2024" in index and "년" not in index
    atom = (site.out / "atom.xml").read_text(encoding="utf-8")
    assert 'xml:lang="en-GB"' in atom
    assert "2024-06-11T14:30:00+01:00" in atom  # naive time read in London (BST)
    week = (site.out / "digest" / "2024-W24.html").read_text(encoding="utf-8")
    assert "Council tax bands" in week and "lang=\"en-GB\"" in week
    assert site.run("validate").exit_code == 0


def test_a_touched_but_identical_file_is_counted_unchanged(built_site: Site) -> None:
    """Only its mtime changed: the unit is rendered again, the bytes match, nothing is
    rewritten, and the summary counts every file as unchanged."""
    total = sum(1 for p in built_site.out.rglob("*") if p.is_file() and p.name != MANIFEST)
    feed = built_site.out / "feed.xml"
    os.utime(feed, ns=(feed.stat().st_atime_ns, feed.stat().st_mtime_ns + 10**9))
    result = built_site.run("build")
    assert f": 0 written, {total} unchanged" in result.output
