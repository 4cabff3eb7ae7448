"""``feedkit withdraw`` / ``restore``: a withdrawn article leaves every feed, page and digest,
stays in the store with its reason and time, and no later update or import brings it back.

Feeds are read with feedparser, the store with sqlite3 or psycopg (the store tests run on SQLite
and on PostgreSQL), the sources from a loopback server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import feedparser
import pg
import pytest
from conftest import SAMPLE, Site
from loopback_server import Board, board_source, serve
from loopback_server import Site as WebSite
from test_update import write_config

# The sample's "적극행정 우수사례" article (week 2024-W32; 세무과).
GONE_URL = "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18377"
GONE_TITLE = "보령시, “2024년 상반기 적극행정 우수사례 선정”"
REASON = "정정 보도: 선정 결과가 바뀌었음"


def feed_titles(path: Path) -> set[str]:
    if path.suffix == ".json":   # JSON Feed: feedparser reads only XML feeds
        return {item["title"] for item in json.loads(path.read_bytes())["items"]}
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return {e.title for e in parsed.entries}


def every_feed(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.name in ("feed.xml", "atom.xml", "feed.json"))


def texts_of(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8")
            for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture
def site(site: Site, backend) -> Site:
    """The conftest site, on SQLite and on PostgreSQL."""
    return site.use(backend)


@pytest.fixture
def archive_site(tmp_path: Path, backend) -> Site:
    """The sample with the digest archive on, built as of 2024-12-31 (every week complete)."""
    s = Site(tmp_path, extra='\n[digest]\narchive = true\n').use(backend)
    s.run("import")
    s.run("build", "--now", "2024-12-31T12:00")
    return s


def test_withdraw_takes_it_out_of_every_output_and_keeps_it_in_the_store(archive_site):
    site = archive_site
    before = texts_of(site.out)
    assert any(GONE_TITLE in t for t in before.values())
    assert "digest/2024-W32.html" in before and GONE_TITLE in before["digest/2024-W32.html"]
    assert any(GONE_TITLE in t for name, t in before.items() if name.startswith("category/"))

    result = site.run("withdraw", GONE_URL, "--reason", REASON, "--now", "2024-12-31T12:00")
    assert "withdrawn" in result.stdout and GONE_TITLE in result.stdout

    after = texts_of(site.out)
    # no page, feed or archive file names it any more; the title is HTML-escaped in pages,
    # so look for its distinctive part too
    for name, text in after.items():
        assert GONE_TITLE not in text and "적극행정 우수사례" not in text, name
    for feed in every_feed(site.out):
        assert GONE_TITLE not in feed_titles(feed)
    main_titles = feed_titles(site.out / "feed.xml")
    assert len(main_titles) == 6          # the sample's 7 articles minus the withdrawn one
    # the week had only this article: its archive page is gone (no empty week page)
    assert "digest/2024-W32.html" not in after
    # kept in the store with the reason and the time, out of the live table
    assert site.rows("SELECT count(*) FROM articles WHERE url = ?", GONE_URL) == [(0,)]
    assert site.rows("SELECT title, reason, withdrawn_at FROM withdrawn") == [
        (GONE_TITLE, REASON, "2024-12-31T03:00:00+00:00")]


def test_withdraw_by_id_then_restore_brings_it_back_as_it_was(archive_site):
    site = archive_site
    before = texts_of(site.out)
    row = site.rows("SELECT * FROM articles WHERE url = ?", GONE_URL)
    site.run("withdraw", GONE_URL, "--reason", REASON)
    result = site.run("restore", GONE_URL, "--now", "2024-12-31T12:00")
    assert "restored" in result.stdout
    assert site.rows("SELECT * FROM articles WHERE url = ?", GONE_URL) == row
    assert site.rows("SELECT count(*) FROM withdrawn") == [(0,)]
    assert texts_of(site.out) == before   # the site is byte for byte what it was


def test_a_withdrawn_article_never_comes_back_from_import(archive_site):
    site = archive_site
    site.run("withdraw", GONE_URL, "--reason", REASON, "--no-build")
    result = site.run("import")      # the same sample file again, article included
    assert "1 withdrawn earlier (not brought back)" in result.stdout
    assert site.rows("SELECT count(*) FROM articles WHERE url = ?", GONE_URL) == [(0,)]
    # a record under a new id but the same URL is the same page: also kept out
    moved = site.root / "moved.jsonl"
    moved.write_text(json.dumps({"id": "new-id-18377", "url": GONE_URL, "title": "다시 올림",
                                 "published": "2024-08-09"}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    result = site.run("import", str(moved))
    assert "0 inserted" in result.stdout and "1 withdrawn earlier" in result.stdout
    assert site.rows("SELECT count(*) FROM articles WHERE url = ?", GONE_URL) == [(0,)]


def _html_site(tmp_path: Path, web: WebSite) -> tuple[Board, Path]:
    board = Board(web, count=4, per_page=10)
    return board, write_config(tmp_path, [board_source(board)])


def test_a_withdrawn_article_never_comes_back_from_an_html_source(tmp_path):
    web = WebSite()
    with serve(web):
        board, config = _html_site(tmp_path, web)
        site = _SiteAt(tmp_path, config)
        site.run("update")
        gone = board.items[1]
        site.run("withdraw", board.site.url(board.detail_path(gone)), "--reason", REASON)
        assert gone.title not in feed_titles(tmp_path / "public" / "feed.xml")
        board.items[1].title += " (수정)"   # the source page changes and is served again
        board.publish()
        result = site.run("update", "--full")
        assert "withdrawn (not brought back)" in result.stdout
        titles = feed_titles(tmp_path / "public" / "feed.xml")
        assert len(titles) == 3 and not any(gone.title.split(" (")[0] in t for t in titles)


SEOUL_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>시정 소식</title><link>https://news.example.kr/</link>
<description>d</description>
<item><title>남는 소식</title><link>https://news.example.kr/1</link>
<guid>https://news.example.kr/?p=1</guid><pubDate>Tue, 11 Jun 2024 14:30:00 +0900</pubDate></item>
<item><title>철회할 소식</title><link>https://news.example.kr/2</link>
<guid>https://news.example.kr/?p=2</guid><pubDate>Wed, 12 Jun 2024 14:30:00 +0900</pubDate></item>
</channel></rss>"""


def test_a_withdrawn_article_never_comes_back_from_a_feed_source(tmp_path):
    web = WebSite()
    with serve(web):
        web.page("/feed", SEOUL_FEED, content_type="application/rss+xml; charset=UTF-8")
        config = write_config(tmp_path, [{"kind": "feed", "url": web.url("/feed")}])
        site = _SiteAt(tmp_path, config)
        site.run("update")
        assert feed_titles(tmp_path / "public" / "feed.xml") == {"남는 소식", "철회할 소식"}
        site.run("withdraw", "https://news.example.kr/?p=2", "--reason", REASON)
        # the feed still carries it, now with a new guid (a CMS re-save)
        web.page("/feed", SEOUL_FEED.replace("?p=2", "?p=2&amp;v=2"),
                 content_type="application/rss+xml; charset=UTF-8")
        result = site.run("update")
        assert "1 withdrawn (not brought back)" in result.stdout
        assert feed_titles(tmp_path / "public" / "feed.xml") == {"남는 소식"}


class _SiteAt(Site):
    """:class:`conftest.Site` over a config written elsewhere (the update tests' writer)."""

    def __init__(self, root: Path, config: Path):
        self.root, self.config = root, config
        self.db, self.out = root / "articles.db", root / "public"


def test_export_import_export_carries_withdrawals_byte_identical(site, tmp_path):
    site.run("import")
    site.run("withdraw", GONE_URL, "--reason", "법원 결정 (2024가합123)\n따라 삭제",
             "--no-build", "--now", "2024-12-30T09:15:42")
    first = tmp_path / "first.jsonl"
    site.run("export", "--out", str(first))
    lines = first.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7
    marked = [json.loads(line) for line in lines if '"withdrawn"' in line]
    assert [(r["url"], r["withdrawn"]) for r in marked] == [
        (GONE_URL, {"at": "2024-12-30T00:15:42+00:00",
                    "reason": "법원 결정 (2024가합123) 따라 삭제"})]

    with site.backend.another(tmp_path / "fresh") as other:
        fresh = Site(tmp_path / "fresh").use(other)
        result = fresh.run("import", str(first))
        assert "6 inserted" in result.stdout and "1 withdrawn" in result.stdout
        assert fresh.rows("SELECT count(*) FROM articles") == [(6,)]
        assert fresh.rows("SELECT reason FROM withdrawn") == [
            ("법원 결정 (2024가합123) 따라 삭제",)]
        second = tmp_path / "second.jsonl"
        fresh.run("export", "--out", str(second))
        assert second.read_bytes() == first.read_bytes()
        # and the rebuilt store still refuses the sample's copy
        result = fresh.run("import", str(SAMPLE))
        assert "1 withdrawn earlier (not brought back)" in result.stdout


def test_a_store_without_withdrawals_exports_as_before(site, tmp_path):
    site.run("import")
    out = site.run("export").stdout
    assert '"withdrawn"' not in out
    assert out.splitlines()[0].startswith('{"id": ')
    assert all(line.endswith('"image": ""}') or '"image": "' in line
               for line in out.splitlines())


def test_import_rejects_a_malformed_withdrawal_and_keeps_the_rest(site, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"url": "https://a.example/1", "title": "하나", "published": "2024-06-01",
         "withdrawn": {"at": "어제", "reason": "x"}},
        {"url": "https://a.example/2", "title": "둘", "published": "2024-06-01",
         "withdrawn": {"at": "2024-06-02T00:00:00+00:00"}},
        {"url": "https://a.example/3", "title": "셋", "published": "2024-06-01"},
    ]) + "\n", encoding="utf-8")
    result = site.run("import", str(bad), ok=False)
    assert result.exit_code == 3
    assert "bad.jsonl:1: withdrawn \"at\" is not an ISO 8601 time: '어제'" in result.stderr
    assert "bad.jsonl:2: withdrawn must be an object with exactly" in result.stderr
    assert site.rows("SELECT url FROM articles") == [("https://a.example/3",)]
    assert site.rows("SELECT count(*) FROM withdrawn") == [(0,)]


def test_stats_counts_withdrawals(site):
    site.run("import")
    site.run("withdraw", GONE_URL, "--reason", REASON, "--no-build",
             "--now", "2024-12-31T12:00")
    data = json.loads(site.run("stats", "--json").stdout)
    assert data["articles"] == 6
    assert data["withdrawn"] == 1
    assert data["withdrawals"][0]["reason"] == REASON
    assert data["withdrawals"][0]["at"] == "2024-12-31T03:00:00+00:00"
    text = site.run("stats").stdout
    assert "withdrawn: 1 (not in any feed, page or digest)" in text
    assert f"2024-12-31  {GONE_TITLE}: {REASON}" in text
    site.run("restore", GONE_URL, "--no-build")
    assert "withdrawn" not in site.run("stats").stdout


def test_withdraw_errors_are_one_line_with_exit_2(site):
    site.run("import")
    unknown = site.run("withdraw", "https://nope.example/1", "--reason", "x", ok=False)
    assert unknown.exit_code == 2
    assert "https://nope.example/1: no article with this id or URL" in unknown.stderr
    assert "Traceback" not in unknown.output
    blank = site.run("withdraw", GONE_URL, "--reason", "  \n ", ok=False)
    assert blank.exit_code == 2 and "--reason" in blank.stderr
    missing = site.run("withdraw", GONE_URL, ok=False)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    not_withdrawn = site.run("restore", GONE_URL, ok=False)
    assert not_withdrawn.exit_code == 2 and "is not withdrawn" in not_withdrawn.stderr


def test_withdrawing_twice_keeps_the_first_reason(site):
    site.run("import")
    site.run("withdraw", GONE_URL, "--reason", "처음 이유", "--no-build")
    again = site.run("withdraw", GONE_URL, "--reason", "다른 이유", "--no-build")
    assert "already withdrawn" in again.stdout and "처음 이유" in again.stdout
    assert site.rows("SELECT reason FROM withdrawn") == [("처음 이유",)]


def test_ambiguous_url_asks_for_an_id(site, tmp_path):
    twins = tmp_path / "twins.jsonl"
    twins.write_text("".join(json.dumps({"id": f"t{i}", "url": "https://a.example/same",
                                         "title": f"쌍둥이 {i}", "published": "2024-06-01"},
                                        ensure_ascii=False) + "\n" for i in (1, 2)),
                     encoding="utf-8")
    site.run("import", str(twins))
    result = site.run("withdraw", "https://a.example/same", "--reason", "x", ok=False)
    assert result.exit_code == 2
    assert "2 articles have this URL; give one of their ids: t1, t2" in result.stderr
    site.run("withdraw", "t2", "--reason", "x", "--no-build")
    assert site.rows("SELECT id FROM articles") == [("t1",)]


def test_migration_adds_the_table_to_an_older_store(tmp_path):
    """A store at schema 3 (before editorial decisions and withdrawals) opens, upgrades and
    keeps its articles."""
    from feedkit.store.articles import MIGRATIONS, Store

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for step in MIGRATIONS[:2]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO articles (id, url, title, published, published_ts, updated, "
               "updated_ts, hash, first_seen, last_changed) VALUES ('a', 'https://a.example/', "
               "'제목', '2024-06-01T00:00:00+09:00', 1717167600, '2024-06-01T00:00:00+09:00', "
               "1717167600, 'h', 'x', 'x')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) >= 5
        assert store.count() == 1
    tables = {r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "withdrawn" in tables


def test_migration_adds_the_table_to_an_older_store_on_postgresql(pg_schema, monkeypatch):
    """The same upgrade on PostgreSQL: a schema left at version 3 by an older feedkit (made by
    the first three steps) gets the later tables and keeps its articles."""
    import feedkit.store.articles
    from feedkit.store.articles import MIGRATIONS, Store

    url, schema = pg_schema
    monkeypatch.setattr(feedkit.store.articles, "MIGRATIONS", MIGRATIONS[:3])
    monkeypatch.setattr(feedkit.store.articles, "SCHEMA_VERSION", 3)
    Store(url, schema=schema).close()
    monkeypatch.undo()
    old = pg.Backend("postgresql", Path("unused"), pg_schema)
    assert "withdrawn" not in old.tables() and "articles" in old.tables()
    old.execute("INSERT INTO articles (id, url, title, published, published_ts, updated, "
                "updated_ts, hash, first_seen, last_changed) VALUES ('a', 'https://a.example/', "
                "'제목', '2024-06-01T00:00:00+09:00', 1717167600, '2024-06-01T00:00:00+09:00', "
                "1717167600, 'h', 'x', 'x')")
    with Store(url, schema=schema) as store:
        assert store.schema_version == len(MIGRATIONS) >= 5
        assert store.count() == 1
    assert {"withdrawn", "digest_notes", "subscribers"} <= old.tables()
    assert old.rows("SELECT version FROM feedkit_schema") == [(len(MIGRATIONS),)]


def test_a_week_with_other_news_keeps_its_page_and_digest_without_the_article(tmp_path, backend):
    """The archive page of a week (already sent or not) is rebuilt without the article, and
    the digest rendered for that week from now on leaves it out."""
    site = Site(tmp_path / "site", extra='''
[digest]
archive = true
from = "보령시 소식 <news@example.org>"
to = ["subscribers@lists.example.org"]
unsubscribe = ["https://news.example.org/unsubscribe"]
''').use(backend)
    week = tmp_path / "week.jsonl"
    week.write_text("".join(json.dumps({"url": f"https://www.brcn.go.kr/news/{n}",
                                        "title": title, "published": when},
                                       ensure_ascii=False) + "\n"
                            for n, title, when in [(1, "남는 소식", "2024-06-11 09:00"),
                                                   (2, "철회할 소식", "2024-06-12 09:00")]),
                    encoding="utf-8")
    site.run("import", str(week))
    site.run("build", "--now", "2024-06-20T12:00")
    page = site.out / "digest" / "2024-W24.html"
    assert "철회할 소식" in page.read_text(encoding="utf-8")
    site.run("withdraw", "https://www.brcn.go.kr/news/2", "--reason", REASON,
             "--now", "2024-06-20T12:00")
    text = page.read_text(encoding="utf-8")
    assert "남는 소식" in text and "철회할 소식" not in text
    digest = site.run("digest", "render", "--week", "2024-W24", "--text", "-").stdout
    assert "남는 소식" in digest and "철회할 소식" not in digest
    archive_feed = (site.out / "digest" / "feed.xml").read_text(encoding="utf-8")
    assert "남는 소식" in archive_feed and "철회할 소식" not in archive_feed


def test_withdrawing_the_last_article_says_the_site_was_not_rebuilt(site, tmp_path):
    only = tmp_path / "only.jsonl"
    only.write_text(json.dumps({"url": "https://a.example/1", "title": "하나뿐인 소식",
                                "published": "2024-06-01"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    site.run("import", str(only))
    site.run("build")
    result = site.run("withdraw", "https://a.example/1", "--reason", "x", ok=False)
    assert result.exit_code == 1
    assert "withdrawn: 하나뿐인 소식" in result.stdout
    assert result.stderr == (
        f"feedkit: error: nothing is left to publish, so {site.out} was not rebuilt and still "
        "shows the withdrawn article: take the published site down by hand, or add news and "
        "build\n")
    assert site.rows("SELECT count(*) FROM withdrawn") == [(1,)]


def test_withdraw_builds_as_of_its_now_and_names_what_it_removed(site, tmp_path):
    """The build a withdraw runs is as of its ``--now`` (an article dated after it stays held
    back), and ``-v`` names each file it removed: the withdrawn article's department had no
    other, so its feeds go."""
    news = tmp_path / "news.jsonl"
    news.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"url": "https://a.example/1", "title": "남는 소식", "published": "2024-06-10",
         "department": "세무과"},
        {"url": "https://a.example/2", "title": "철회할 소식", "published": "2024-06-11",
         "department": "홍보과"},
        {"url": "https://a.example/3", "title": "아직 아닌 소식", "published": "2024-06-25",
         "department": "세무과"}]), encoding="utf-8")
    site.run("import", str(news))
    site.run("build", "--now", "2024-06-20T12:00")
    department = next(p.parent for p in site.out.glob("category/*/feed.xml")
                      if "홍보과" in p.read_text(encoding="utf-8"))
    its_files = sorted(p.relative_to(site.out).as_posix() for p in department.rglob("*")
                       if p.is_file())
    assert len(its_files) >= 3   # its RSS, Atom and JSON Feed at least
    result = site.run("-v", "withdraw", "https://a.example/2", "--reason", REASON,
                      "--now", "2024-06-20T12:00")
    assert feed_titles(site.out / "feed.xml") == {"남는 소식"}   # not the one dated the 25th
    removed = sorted(line.removeprefix("removed ") for line in result.output.splitlines()
                     if line.startswith("removed "))
    assert removed == its_files
    assert not any(department.rglob("*.*"))


def test_restore_with_a_bad_now_changes_nothing(site):
    """A mistyped --now is a usage error found before the store is touched (as for withdraw),
    not an article restored and then a build that refuses to run."""
    site.run("import")
    site.run("withdraw", GONE_URL, "--reason", REASON, "--no-build")
    bad = site.run("restore", GONE_URL, "--now", "2024-13-01", ok=False)
    assert bad.exit_code == 2 and "--now: '2024-13-01' is not a date" in bad.stderr
    assert "restored" not in bad.stdout
    assert site.rows("SELECT count(*) FROM articles WHERE url = ?", GONE_URL) == [(0,)]
    assert site.rows("SELECT title FROM withdrawn") == [(GONE_TITLE,)]


def test_an_imported_withdrawal_keeps_its_tags_as_a_live_article_would(site, tmp_path):
    """An export's withdrawal comes back into the withdrawn table with the row a live article
    of the same record gets (the tags as written, Hangul and all): restoring it, or copying the
    store, then moves the same bytes."""
    record = {"url": "https://a.example/t", "title": "태그 있는 소식", "published": "2024-06-11",
              "tags": ["세무", "안내 ✓"]}
    live = tmp_path / "live.jsonl"
    live.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    gone = tmp_path / "gone.jsonl"
    gone.write_text(json.dumps({**record, "url": "https://a.example/w", "withdrawn": {
        "at": "2024-07-01T00:00:00+00:00", "reason": REASON}}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    site.run("import", str(live))
    site.run("import", str(gone))
    assert site.rows("SELECT tags FROM articles") == site.rows("SELECT tags FROM withdrawn") \
        == [('["세무", "안내 ✓"]',)]
