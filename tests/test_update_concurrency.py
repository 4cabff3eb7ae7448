"""Four `feedkit update` processes, each with its own sources, writing one store at once.

Each process is a real ``python -m feedkit update`` with its own config.toml; all four name the
same store (one PostgreSQL schema, or one SQLite file) and build the same output folder. The
sources are served by a loopback HTTP server: two boards read page by page (a transaction per
list page, so the writers interleave many times) and two RSS feeds of several hundred items.

What must hold afterwards, checked with the database's own client (psycopg / sqlite3) against
what the sources served: every article there once, none lost, every process exit 0; the output
folder equal to a fresh build from the finished store (no process's stale build left on top);
and a second round of the same four processes changes nothing, neither store nor files.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from loopback_server import Board, Site, board_source, serve
from test_update import toml_value

from feedkit.site.output import MANIFEST

PER_SOURCE = 300
PROCESSES = 4
TIMEOUT = 300


def _rss(site: Site, path: str, label: str, count: int) -> set[str]:
    """An RSS 2.0 feed of ``count`` items at ``path``; returns the article URLs it serves."""
    start = datetime(2025, 3, 1, 9)
    urls, items = set(), []
    for n in range(count):
        url = site.url(f"{path}/item/{n}")
        urls.add(url)
        when = (start + timedelta(hours=5 * n)).strftime("%a, %d %b %Y %H:%M:%S +0900")
        items.append(
            f"<item><title>{escape(label)} 소식 {n}호: 대천해수욕장 안전 점검</title>"
            f"<link>{url}</link><guid>{url}</guid><pubDate>{when}</pubDate>"
            f"<category>{escape(label)}</category>"
            f"<description>{escape(label)}의 {n}번째 소식입니다. 시민 여러분의 관심 바랍니다."
            f"</description></item>")
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(label)}</title><link>{site.url(path)}</link>"
            f"<description>{escape(label)}</description>{''.join(items)}</channel></rss>")
    site.page(f"{path}/feed.xml", body, content_type="application/rss+xml; charset=utf-8",
              etag=f'"{path.strip("/")}-{count}"')
    return urls


def _board(site: Site, prefix: str, label: str, count: int) -> tuple[dict, set[str]]:
    board = Board(site, count=count, per_page=25, prefix=prefix, body_paragraphs=1)
    for item in board.items:   # titles of their own, so no two sources look alike
        item.title = f"{label} {item.id}호: 보령시 머드축제 준비 회의"
    board.publish()
    source = board_source(board, name=label, max_pages=count // 25 + 2)
    return source, {site.url(board.detail_path(item)) for item in board.items}


def _config(folder: Path, store_lines: str, source: dict) -> Path:
    """One process's config.toml: the same site, store and output folder, its own source."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[site]", 'title = "보령시 새소식"', 'url = "https://www.brcn.go.kr/"',
             'feed_url = "https://news.example.org/boryeong/"', 'language = "ko"',
             'timezone = "Asia/Seoul"', "", store_lines.rstrip(), "",
             "[build]", 'out = "../public"', "",
             "[fetch]", "delay = 0", "timeout = 10", "retries = 1", "backoff = 0", "",
             "[[sources]]"]
    tables = {k: v for k, v in source.items() if isinstance(v, dict)}
    lines += [f"{k} = {toml_value(v)}" for k, v in source.items() if not isinstance(v, dict)]
    for name, table in tables.items():
        lines += [f"[sources.{name}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run_all(configs: list[Path], env: dict[str, str], *args: str
             ) -> list[subprocess.CompletedProcess]:
    """Start every process before waiting for any: they really run at once."""
    procs = [subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(c), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=c.parent)
             for c in configs]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _outputs(procs, configs) -> str:
    return "\n".join(f"--- {c.parent.name}: exit {p.returncode}\n{p.stdout}{p.stderr}"
                     for p, c in zip(procs, configs, strict=True))


def _folder(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root``: its bytes and mtime (a rewrite shows even with equal bytes)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(backend, sql: str) -> list[tuple]:
    """Read the store with the database's own client, not with feedkit's Store."""
    if backend.is_pg:
        import psycopg

        with psycopg.connect(backend.url, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{backend.schema}"')
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    with sqlite3.connect(backend.path) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def http():
    s = Site()
    with serve(s):
        yield s


def test_four_parallel_updates_lose_and_duplicate_nothing(backend, http, tmp_path):
    served: set[str] = set()
    sources = []
    for n in range(PROCESSES // 2):
        source, urls = _board(http, f"/b{n}", f"게시판{n}", PER_SOURCE)
        sources.append(source)
        served |= urls
        urls = _rss(http, f"/f{n}", f"피드{n}", PER_SOURCE)
        sources.append({"kind": "feed", "name": f"피드{n}", "url": http.url(f"/f{n}/feed.xml")})
        served |= urls
    assert len(served) == PROCESSES * PER_SOURCE
    # SQLite: the file beside the four process folders; PostgreSQL: $FEEDKIT_STORE_URL (as in
    # CI, where the URL is a secret) and the schema from the config.
    store_lines = ('[store]\npath = "../articles.db"\n' if not backend.is_pg
                   else backend.store_lines(with_url=False))
    configs = [_config(tmp_path / f"p{i}", store_lines, src) for i, src in enumerate(sources)]
    backend.path = tmp_path / "articles.db"
    env = backend.env()

    first = _run_all(configs, env, "update")
    assert [p.returncode for p in first] == [0] * PROCESSES, _outputs(first, configs)
    assert "Traceback" not in _outputs(first, configs)

    ids = [r[0] for r in _rows(backend, "SELECT id FROM articles")]
    assert len(ids) == len(served)                       # nothing duplicated...
    assert set(ids) == served                            # ...nothing lost, nothing else
    urls = _rows(backend, "SELECT count(DISTINCT url), count(*) FROM articles")
    assert urls == [(len(served), len(served))]

    # The four builds of one folder: whatever order they finished in, what is left is what a
    # build from the finished store makes (no process's older view of the store on top).
    public = tmp_path / "public"
    after_first = _folder(public)
    fresh = tmp_path / "fresh"
    done = subprocess.run([sys.executable, "-m", "feedkit", "--config", str(configs[0]),
                           "build", "--out", str(fresh)], capture_output=True, text=True,
                          env=env, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    fresh_files = {rel: data for rel, (data, _) in _folder(fresh).items()}
    assert {rel: data for rel, (data, _) in after_first.items()} == fresh_files
    assert "feed.xml" in fresh_files

    store_before = _rows(backend, "SELECT id, hash, last_changed FROM articles ORDER BY id")
    generation = _rows(backend, "SELECT value FROM meta WHERE key = 'generation'")

    second = _run_all(configs, env, "update")
    assert [p.returncode for p in second] == [0] * PROCESSES, _outputs(second, configs)
    assert _rows(backend, "SELECT id, hash, last_changed FROM articles ORDER BY id") \
        == store_before
    assert _rows(backend, "SELECT value FROM meta WHERE key = 'generation'") == generation
    for p in second:
        assert "0 new, 0 changed" in p.stdout, p.stdout
    assert _folder(public) == after_first                # not one file rewritten
    assert not [p for p in public.rglob("*.tmp")] and not [
        p for p in public.rglob(".*") if p.is_file() and p.name != MANIFEST]   # no temporary
    # file left behind (the list of what feedkit wrote there is its own: .feedkit-outputs)
    assert os.listdir(tmp_path / "p0") == ["config.toml"]


def test_a_build_waits_for_the_folder_and_then_reads_the_store_as_it_is(http, tmp_path):
    """The build lock, step by step: while the output folder is held (as another process's
    build would hold it), an update stores its articles and then waits; an article stored
    meanwhile by someone else is in the feed it finally writes. Without the lock it would have
    built from the store as it was before, and left that older feed behind."""
    import fcntl
    import time
    from zoneinfo import ZoneInfo

    import feedparser

    from feedkit.ingest.normalize import normalize_record
    from feedkit.store.articles import Store

    served = _rss(http, "/f", "피드", 20)
    config = _config(tmp_path / "p0", '[store]\npath = "../articles.db"\n',
                     {"kind": "feed", "name": "피드", "url": http.url("/f/feed.xml")})
    public = tmp_path / "public"
    public.mkdir()
    env = dict(os.environ)
    env.pop("FEEDKIT_STORE_URL", None)
    held = os.open(public, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    proc = subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(config),
                             "update"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:   # until the update has stored its own articles (then it builds)
            try:   # read-only: never create the file the update is about to make
                with sqlite3.connect(f"file:{tmp_path / 'articles.db'}?mode=ro",
                                     uri=True) as db:
                    stored = {r[0] for r in db.execute("SELECT id FROM articles")}
            except sqlite3.Error:
                stored = set()
            if stored == served or proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert stored == served
        # Stored, so it builds next: it must wait for the folder (without the lock it would
        # build and exit now, from the store as it is before the article below).
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
        late = normalize_record({"title": "다른 프로세스가 방금 저장한 소식",
                                 "url": "https://www.brcn.go.kr/late",
                                 "published": "2025-06-01 09:00"}, ZoneInfo("Asia/Seoul"))
        with Store(tmp_path / "articles.db") as store, store.transaction():
            assert store.upsert([late]).inserted == 1
    finally:
        os.close(held)   # the other build is done: the update may build now
        out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out + err
    feed = feedparser.parse((public / "feed.xml").read_bytes())
    assert "다른 프로세스가 방금 저장한 소식" in {e.title for e in feed.entries}


def test_two_processes_creating_a_new_postgresql_store_at_once_make_it_once(pg_schema):
    """The failure the four updates met on a fresh schema ("relation articles already exists"):
    a second process looked for the store's tables before the first created them, waited on the
    schema's lock, then, holding it, still saw no tables (PostgreSQL's catalog cache of its
    session, not refreshed by an advisory lock) and ran the migrations again. Step by step,
    with the real server: A is inside its creating transaction; B looks (nothing yet) and
    starts its own, waiting on the lock; A commits; B must find A's store and leave it be."""
    import threading

    import psycopg

    from feedkit.store.articles import SCHEMA_VERSION, Store
    from feedkit.store.postgres import PgDatabase

    url, schema = pg_schema
    a = PgDatabase(url, schema)
    b = PgDatabase(url, schema)
    a.execute("BEGIN IMMEDIATE")
    a.execute("CREATE TABLE articles (id TEXT PRIMARY KEY)")
    a.set_user_version(SCHEMA_VERSION)
    assert b.user_version() == 0                 # A has not committed: no store yet
    seen: list[int] = []

    def b_opens() -> None:
        b.execute("BEGIN IMMEDIATE")             # waits for A's lock
        seen.append(b.user_version())
        b.execute("ROLLBACK")

    thread = threading.Thread(target=b_opens)
    thread.start()
    with psycopg.connect(url, autocommit=True) as admin:
        while not admin.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND NOT granted").fetchone()[0]:
            thread.join(0.01)                    # until B really waits on the lock
    a.execute("COMMIT")
    thread.join(30)
    assert seen == [SCHEMA_VERSION]
    a.close()
    b.close()
    with Store(url, schema=schema) as store:     # and the whole open agrees
        assert store.schema_version == SCHEMA_VERSION


def test_an_update_keeps_the_failing_streak_of_a_source_another_config_runs(http, tmp_path):
    """Two configs, one store: A's source is down, B's works. B's runs must not wipe A's count
    of failed runs in a row (B's config does not name A's source, but A still runs it), or
    A's source would never be reported as failing for a day. A streak nobody has counted for
    two days is a source removed for good, and goes."""
    import json

    from click.testing import CliRunner

    from feedkit.cli import cli

    http.page("/down/feed.xml", "maintenance", status=503)
    _rss(http, "/up", "소식", 3)
    store_lines = '[store]\npath = "../articles.db"\n'
    a = _config(tmp_path / "a", store_lines,
                {"kind": "feed", "name": "소식지", "url": http.url("/down/feed.xml")})
    b = _config(tmp_path / "b", store_lines,
                {"kind": "feed", "name": "보도자료", "url": http.url("/up/feed.xml")})

    def update(config) -> int:
        return CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"]
                                  ).exit_code

    def failing(config) -> list[tuple[str, int]]:
        out = CliRunner().invoke(cli, ["--config", str(config), "stats", "--json"]).stdout
        return [(f["source"], f["runs"]) for f in json.loads(out)["failing_sources"]]

    assert (update(a), update(b), update(a), update(b)) == (3, 0, 3, 0)
    assert failing(b) == [("소식지", 2)]
    # 소식지 leaves A's config for good: two days later its streak is forgotten.
    with sqlite3.connect(tmp_path / "articles.db") as db:
        [(value,)] = db.execute("SELECT value FROM meta WHERE key = 'source-failing:소식지'")
        old = json.loads(value)
        assert old["last"] >= "2025"
        old["last"] = "2020-01-01T00:00+00:00"
        db.execute("UPDATE meta SET value = ? WHERE key = 'source-failing:소식지'",
                   (json.dumps(old, ensure_ascii=False),))
    assert update(b) == 0
    assert failing(b) == []
