"""The store on SQLite and on PostgreSQL: schema versioning, upsert semantics, and indexes the
queries really use. Read back with sqlite3 / psycopg (tests/pg.py), not with feedkit."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedkit.errors import FeedkitError
from feedkit.ingest.normalize import normalize_record
from feedkit.store.articles import SCHEMA_VERSION, Store

SEOUL = ZoneInfo("Asia/Seoul")


def article(i: int, category: str = "세무과", title: str | None = None):
    return normalize_record({"title": title or f"기사 {i}", "url": f"https://a.example/{i}",
                             "published": f"2024-06-{1 + i % 28:02d} 09:{i % 60:02d}",
                             "category": category}, SEOUL)


def test_new_store_is_migrated_to_the_latest_schema(backend) -> None:
    with backend.open_store():
        pass
    assert {"articles", "meta", "outputs", "send_log", "http_cache", "category_slugs",
            "digest_approvals", "digest_notes", "withdrawn", "subscribers"} <= backend.tables()
    if backend.is_pg:
        assert backend.rows("SELECT version FROM feedkit_schema") == [(SCHEMA_VERSION,)]
        # Every text column compares bytes, as SQLite does (ORDER BY gives the same files),
        # and every integer is 64 bits, as SQLite's are (Unix seconds after 2038).
        columns = backend.rows(
            "SELECT table_name, column_name, data_type, collation_name "
            "FROM information_schema.columns WHERE table_schema = ?", backend.schema)
        assert ("send_log", "recipient", "text", "C") in columns
        assert [c for c in columns if c[2] == "text" and c[3] != "C"] == []
        assert [c for c in columns if c[2] not in ("text", "bigint")] == []
    else:
        with backend.client() as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_from_a_newer_feedkit_is_refused(backend) -> None:
    if backend.is_pg:
        backend.execute(f'CREATE SCHEMA "{backend.schema}"')
        backend.execute("CREATE TABLE feedkit_schema (version integer NOT NULL)")
        backend.execute("INSERT INTO feedkit_schema VALUES (?)", SCHEMA_VERSION + 1)
    else:
        with closing(sqlite3.connect(backend.path)) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(FeedkitError, match=f"store schema version {SCHEMA_VERSION + 1} is "
                       f"newer than this feedkit understands .{SCHEMA_VERSION}.; upgrade"):
        backend.open_store()
    # Refusing wrote nothing: no table of this feedkit's schema appeared.
    assert backend.tables() == ({"feedkit_schema"} if backend.is_pg else set())


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    """SQLite only: a damaged or foreign file (PostgreSQL's counterparts: test_store_pg.py)."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FeedkitError, match="cannot open the article store"):
        Store(path)


def test_upsert_counts_and_generation(backend) -> None:
    with backend.open_store() as store:
        start = store.generation
        with store.transaction():
            first = store.upsert([article(i) for i in range(5)])
        assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
        after_insert = store.generation
        assert after_insert > start
        with store.transaction():
            same = store.upsert([article(i) for i in range(5)])
        assert (same.inserted, same.updated, same.unchanged) == (0, 0, 5)
        assert store.generation == after_insert, "nothing changed, so nothing to rebuild"
        with store.transaction():
            changed = store.upsert([article(0, title="고친 제목")])
        assert changed.updated == 1 and store.generation > after_insert
        assert store.get("https://a.example/0").title == "고친 제목"
    assert backend.rows("SELECT count(*), min(title) FROM articles") == [(5, "고친 제목")]
    assert int(backend.scalar("SELECT value FROM meta WHERE key = 'generation'")) == 2


def test_a_failed_transaction_writes_nothing(backend) -> None:
    with backend.open_store() as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.upsert([article(1)])
            raise RuntimeError("boom")
        assert store.count() == 0
        with store.transaction():   # the store is usable after the rollback
            store.upsert([article(2)])
    assert backend.rows("SELECT id FROM articles") == [("https://a.example/2",)]
    assert backend.scalar("SELECT value FROM meta WHERE key = 'generation'") == "1"


def test_queries_use_the_indexes(backend) -> None:
    """"Latest N", "latest N in a category" and "published in [a, b)" must not scan the table
    or sort: each is read in order from its index. (PostgreSQL would rightly scan a 60-row
    table, so seq scans are switched off: what is left tells whether an index can serve.)"""
    plans = {
        "latest": ("SELECT id FROM articles ORDER BY published_ts DESC, id DESC LIMIT 5",
                   "articles_latest"),
        "category": ("SELECT id FROM articles WHERE category = '과1' "
                     "ORDER BY published_ts DESC, id DESC LIMIT 5", "articles_category_latest"),
        "range": ("SELECT id FROM articles WHERE published_ts >= 0 AND published_ts < 99 "
                  "ORDER BY published_ts DESC, id DESC", "articles_latest"),
    }
    with backend.open_store() as store:
        with store.transaction():
            store.upsert([article(i, category=f"과{i % 3}") for i in range(60)])
        with backend.client() as db:
            for name, (sql, index) in plans.items():
                if backend.is_pg:
                    db.execute("SET enable_seqscan = off")
                    db.execute("ANALYZE articles")
                    plan = " ".join(r[0] for r in db.execute("EXPLAIN " + sql))
                    assert re.search(rf"Index (Only )?Scan (Backward )?using {index} on", plan), \
                        (name, plan)
                    assert "Sort" not in plan, (name, plan)
                else:
                    plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + sql))
                    assert "USING" in plan and "INDEX" in plan, (name, plan)
                    assert "TEMP B-TREE" not in plan, (name, plan)  # no sort: the index is ordered
        latest = [s.article.id for s in store.latest(3)]
        by_date = sorted((s.article for s in store.latest(100)),
                         key=lambda a: (a.published, a.id), reverse=True)
        assert latest == [a.id for a in by_date[:3]]
        week = store.published_between(datetime(2024, 6, 3, tzinfo=SEOUL),
                                       datetime(2024, 6, 10, tzinfo=SEOUL))
        assert week and all(
            datetime(2024, 6, 3, tzinfo=SEOUL) <= s.article.published
            < datetime(2024, 6, 10, tzinfo=SEOUL) for s in week)
