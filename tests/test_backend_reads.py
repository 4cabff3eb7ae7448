"""The tests' own reader of the store (tests/pg.py: ``backend.rows`` and friends, ``site.use``):
it must read what feedkit wrote, on either backend, without going through feedkit's code."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pg
import pytest

from feedkit.ingest.normalize import normalize_record


def test_placeholders_are_translated_outside_quotes_only() -> None:
    assert pg.pg_placeholders("SELECT ? FROM t WHERE a = ? AND b LIKE 'x?%'") == \
        "SELECT %s FROM t WHERE a = %s AND b LIKE 'x?%%'"
    assert pg.pg_placeholders('SELECT "odd?name", \'it\'\'s ?\' , ?') == \
        'SELECT "odd?name", \'it\'\'s ?\' , %s'


def test_rows_and_scalar_read_what_the_store_wrote(backend) -> None:
    record = {"title": "보령 머드축제", "url": "https://a.example/100%25/1",
              "published": "2024-07-01 09:00", "category": "관광과"}
    with backend.open_store() as store, store.transaction():
        store.upsert([normalize_record(record, ZoneInfo("Asia/Seoul"))])
    assert backend.rows("SELECT title, category FROM articles WHERE url = ?",
                        "https://a.example/100%25/1") == [("보령 머드축제", "관광과")]
    assert backend.scalar("SELECT count(*) FROM articles WHERE url LIKE '%100\\%25%' "
                          "ESCAPE '\\'") == 1
    assert backend.scalar("SELECT title FROM articles WHERE url = ?", "nothing") is None
    assert {"articles", "meta", "send_log", "subscribers"} <= backend.tables()
    backend.execute("UPDATE articles SET title = ? WHERE category = ?", "고친 제목", "관광과")
    with backend.open_store() as store:
        assert store.get("https://a.example/100%25/1").title == "고친 제목"


def test_a_site_on_a_backend_runs_the_cli_there(backend_site) -> None:
    backend_site.run("import")
    count = backend_site.scalar("SELECT count(*) FROM articles")
    assert count > 0
    with backend_site.store() as store:
        assert store.dialect == backend_site.backend.name
        assert store.count() == count
    if backend_site.is_pg:
        # Nothing went to a SQLite file beside the config.
        assert not backend_site.db.exists()


def test_reading_a_missing_sqlite_store_never_creates_it(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        pg.sqlite_rows(tmp_path / "none.db", "SELECT 1")
    assert not (tmp_path / "none.db").exists()
