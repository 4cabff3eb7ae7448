"""The SQLite store: schema versioning, upsert semantics, and indexes the queries really use."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedkit.errors import FeedkitError
from feedkit.ingest.normalize import normalize_record
from feedkit.store import SCHEMA_VERSION, Store

SEOUL = ZoneInfo("Asia/Seoul")


def article(i: int, category: str = "세무과", title: str | None = None):
    return normalize_record({"title": title or f"기사 {i}", "url": f"https://a.example/{i}",
                             "published": f"2024-06-{1 + i % 28:02d} 09:{i % 60:02d}",
                             "category": category}, SEOUL)


def test_new_store_is_migrated_to_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db"):
        pass
    db = sqlite3.connect(tmp_path / "a.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"articles", "meta", "outputs", "send_log", "http_cache"} <= tables


def test_a_store_from_a_newer_feedkit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(FeedkitError, match="newer than this feedkit"):
        Store(path)


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FeedkitError, match="cannot open the article store"):
        Store(path)


def test_upsert_counts_and_generation(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
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


def test_a_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.upsert([article(1)])
            raise RuntimeError("boom")
        assert store.count() == 0


def test_queries_use_the_indexes(tmp_path: Path) -> None:
    """"Latest N", "latest N in a category" and "published in [a, b)" must not scan the table."""
    with Store(tmp_path / "q.db") as store:
        with store.transaction():
            store.upsert([article(i, category=f"과{i % 3}") for i in range(60)])
        db = store.db
        plans = {
            "latest": "SELECT id FROM articles ORDER BY published_ts DESC, id DESC LIMIT 5",
            "category": "SELECT id FROM articles WHERE category = '과1' "
                        "ORDER BY published_ts DESC, id DESC LIMIT 5",
            "range": "SELECT id FROM articles WHERE published_ts >= 0 AND published_ts < 99 "
                     "ORDER BY published_ts DESC, id DESC",
        }
        for name, sql in plans.items():
            plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING" in plan and "INDEX" in plan, (name, plan)
            assert "TEMP B-TREE" not in plan, (name, plan)  # no sort step: the index is ordered
        latest = [s.article.id for s in store.latest(3)]
        by_date = sorted((s.article for s in store.latest(100)),
                         key=lambda a: (a.published, a.id), reverse=True)
        assert latest == [a.id for a in by_date[:3]]
        week = store.published_between(datetime(2024, 6, 3, tzinfo=SEOUL),
                                       datetime(2024, 6, 10, tzinfo=SEOUL))
        assert week and all(
            datetime(2024, 6, 3, tzinfo=SEOUL) <= s.article.published
            < datetime(2024, 6, 10, tzinfo=SEOUL) for s in week)
