"""``store copy`` into PostgreSQL moves the id sequence past the copied ids, at the boundary too:
a destination whose sequence would hand out exactly the highest copied id next (it gave out
ids before, which the copy replaced) must not give a new subscriber an id already taken.
SQLite file as the source, the test session's PostgreSQL (a fresh schema) as the destination."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pg
import pytest

from feedkit.store.articles import Store
from feedkit.store.copy import copy_store
from feedkit.subscribers import repo

T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def pg_backend(tmp_path, pg_schema) -> pg.Backend:
    return pg.Backend("postgresql", tmp_path, pg_schema)


def test_the_next_subscriber_after_a_copy_gets_a_new_id(tmp_path, pg_backend):
    source = Store(tmp_path / "source.db")
    for n in range(3):
        repo.add(source, f"reader{n}@example.com", [], "ko", "command", "v1", T0, T0)
    destination = pg_backend.open_store()
    for n in range(2):   # the destination's sequence has handed out 1 and 2 already
        repo.add(destination, f"old{n}@example.org", [], "ko", "command", "v1", T0, T0)
    copy_store(source, destination, replace=True)
    assert [s.id for s in repo.listing(destination)] == [1, 2, 3]
    new, what = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
    assert what == "added" and new.id == 4
    source.close()
    destination.close()


# -- an erased reader's id, whichever way the copy goes ------------------------------------------

KINDS = ("sqlite", "postgresql")


@contextmanager
def _store(kind: str, root: Path, request) -> Iterator[Store]:
    """An empty store of ``kind``: a file under ``root``, or a fresh schema on the session's
    PostgreSQL (the test skips without one)."""
    root.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        with Store(root / "store.db") as store:
            yield store
        return
    with pg.fresh_schema(request.getfixturevalue("pg_url")) as schema, \
            Store(schema.url, schema=schema.schema) as store:
        yield store


@pytest.mark.parametrize("destination_kind", KINDS)
@pytest.mark.parametrize("source_kind", KINDS)
def test_an_erased_readers_id_is_never_given_again_after_a_copy(
        tmp_path, request, source_kind, destination_kind):
    """The source's counter, not its highest row, says which ids were given: reader 3 was
    erased, so the copy's next reader is 4 (3 would make reader 3's old links name them)."""
    with _store(source_kind, tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        ids = [repo.add(source, f"reader{n}@example.com", [], "ko", "command", "v1", T0, T0)[0].id
               for n in range(3)]
        assert ids == [1, 2, 3]
        assert repo.erase(source, 3)
        copy_store(source, destination)
        assert [s.id for s in repo.listing(destination)] == [1, 2]
        new, what = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
        assert what == "added" and new.id == 4


@pytest.mark.parametrize("destination_kind", KINDS)
def test_a_copy_never_moves_the_destinations_counter_back(tmp_path, request, destination_kind):
    """A destination that gave out ids 1-5 before (rows the copy with --replace deletes) goes
    on from 6, though the source only ever gave 1 and 2."""
    with _store("sqlite", tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        for n in range(2):
            repo.add(source, f"reader{n}@example.com", [], "ko", "command", "v1", T0, T0)
        for n in range(5):
            repo.add(destination, f"old{n}@example.org", [], "ko", "command", "v1", T0, T0)
        copy_store(source, destination, replace=True)
        assert [s.id for s in repo.listing(destination)] == [1, 2]
        new, _ = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
        assert new.id == 6


# -- more rows than one batch -----------------------------------------------------------------

def _articles(n: int, word: str) -> list:
    from feedkit.model import Article

    return [Article(id=f"https://city.example/news/{i}", url=f"https://city.example/news/{i}",
                    title=f"{word} {i}", published=T0, updated=T0, summary=f"{word} 요약 {i}",
                    category=f"과{i % 7}") for i in range(n)]


def _article_rows(store: Store) -> list[tuple]:
    return [tuple(r) for r in store.db.execute(
        "SELECT id, url, title, summary, category, hash FROM articles ORDER BY id").fetchall()]


@pytest.mark.parametrize("destination_kind", KINDS)
def test_a_copy_of_more_than_one_batch_is_whole_and_counted(tmp_path, request, destination_kind):
    """2,500 articles (the copy writes 1,000 rows at a time), then 1,200 of them edited, 5 new
    and 2,100 the destination alone holds (more than two batches): with --replace every row
    ends equal to the source's, the summary counts what was replaced and deleted, and the
    progress reaches every row scanned, once."""
    from feedkit.store.copy import BATCH

    assert BATCH == 1000   # the sizes below straddle it
    with _store("sqlite", tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        source.upsert(_articles(2500, "소식"))
        ticks: list[int] = []
        report = copy_store(source, destination, progress=ticks.append)
        assert _article_rows(destination) == _article_rows(source)
        articles = next(t for t in report.tables if t.name == "articles")
        assert (articles.rows, articles.inserted, articles.updated, articles.deleted) == \
            (2500, 2500, 0, 0)
        assert sum(ticks) == report.rows

        source.upsert(_articles(1200, "고친 소식"))                    # 1,200 edited
        source.upsert(_articles(2505, "소식")[2500:])                 # 5 new
        destination.upsert(_articles(5100, "소식")[3000:])            # 2,100 only there
        ticks.clear()
        report = copy_store(source, destination, replace=True, progress=ticks.append)
        assert _article_rows(destination) == _article_rows(source)
        articles = next(t for t in report.tables if t.name == "articles")
        assert (articles.rows, articles.inserted, articles.updated, articles.deleted) == \
            (2505, 5, 1200, 2100)
        replaced = sum(t.updated for t in report.tables)
        deleted = sum(t.deleted for t in report.tables)
        assert replaced >= 1200 and deleted >= 2100
        assert f"{replaced} replaced, {deleted} deleted" in report.summary()
        assert sum(ticks) == report.rows


@pytest.mark.parametrize("destination_kind", KINDS)
def test_one_reader_copied_into_a_new_store_then_a_second(tmp_path, request, destination_kind):
    """The boundary of a counter that never counted: a new store's first id would be 1, the
    one the copied reader has; the next reader must get 2."""
    with _store("sqlite", tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        repo.add(source, "reader@example.com", [], "ko", "command", "v1", T0, T0)
        copy_store(source, destination)
        new, what = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
        assert what == "added" and new.id == 2
        assert [s.id for s in repo.listing(destination)] == [1, 2]


# -- a destination whose tables are not feedkit's ------------------------------------------------

def _articles_of(store: Store) -> int:
    return store.db.execute("SELECT count(*) FROM articles").fetchone()[0]


@pytest.mark.parametrize("destination_kind", KINDS)
def test_tables_that_differ_are_named_and_nothing_is_written(tmp_path, request, destination_kind):
    """Two stores at one schema version whose tables differ (a hand-made table, a dropped one):
    the copy names each, on its side, and writes nothing; the same for a table whose columns
    differ. Read from each database's own catalog."""
    from feedkit.errors import FeedkitError

    with _store("sqlite", tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        source.upsert(_articles(3, "소식"))
        with destination.transaction():
            destination.db.execute("CREATE TABLE stray (a INTEGER PRIMARY KEY, b TEXT)")
            destination.db.execute("DROP TABLE changed_hours")
        with pytest.raises(FeedkitError) as caught:
            copy_store(source, destination, replace=True)
        assert str(caught.value) == (
            f"{destination.label}: its tables differ from {source.label}'s although both are "
            f"at schema version {destination.schema_version}; only in the source: "
            f"changed_hours; only in the destination: stray")
        assert _articles_of(destination) == 0

        with destination.transaction():   # one side only: the message names that side only
            destination.db.execute("CREATE TABLE changed_hours (hour INTEGER PRIMARY KEY)")
        _refused_as_differing(source, destination, "; only in the destination: stray")
        with destination.transaction():
            destination.db.execute("DROP TABLE stray")
            destination.db.execute("DROP TABLE changed_hours")
        _refused_as_differing(source, destination, "; only in the source: changed_hours")
        with destination.transaction():
            destination.db.execute("CREATE TABLE changed_hours (hour INTEGER PRIMARY KEY, "
                                   "odd TEXT)")
        with pytest.raises(FeedkitError) as caught:
            copy_store(source, destination, replace=True)
        assert str(caught.value) == (f"{destination.label}: table changed_hours has other "
                                     f"columns than in {source.label} (odd)")
        assert _articles_of(destination) == 0


def _refused_as_differing(source: Store, destination: Store, sides: str) -> None:
    """The copy refuses, writing nothing, with the tables' difference ending in ``sides``."""
    from feedkit.errors import FeedkitError

    with pytest.raises(FeedkitError) as caught:
        copy_store(source, destination, replace=True)
    assert str(caught.value).endswith(
        f"although both are at schema version {destination.schema_version}{sides}")
    assert _articles_of(destination) == 0


def test_a_postgresql_store_knows_itself_as_a_copy_target(tmp_path, pg_backend) -> None:
    """``store copy --to`` its own URL and schema is refused before anything is read; another
    schema of the same server (or its default schema), a file, or a URL that does not parse is
    another store."""
    from feedkit.store.copy import same_store

    url, schema = pg_backend.url, pg_backend.schema
    with pg_backend.open_store() as store:
        assert same_store(store, url, schema)
        assert not same_store(store, url, schema + "_other")
        assert not same_store(store, url, "")
        assert not same_store(store, tmp_path / "store.db", schema)
        assert not same_store(store, "postgresql://[::1", schema)


def test_the_summary_counts_what_the_copy_did(tmp_path, request) -> None:
    """One line of counts: what was added, and once anything was replaced or deleted, both."""
    with _store("sqlite", tmp_path / "source", request) as source, \
            _store("sqlite", tmp_path / "destination", request) as destination:
        source.upsert(_articles(3, "소식"))
        first = copy_store(source, destination).summary()
        where = re.escape(f"{source.label} to {destination.label}")
        assert re.fullmatch(rf"{where}: copied (\d+) rows in \d+ tables: \1 added", first)
        source.upsert(_articles(2, "고친 소식"))
        assert re.fullmatch(rf"{where}: copied \d+ rows in \d+ tables: 0 added, [1-9]\d* "
                            r"replaced, 0 deleted",
                            copy_store(source, destination, replace=True).summary())
        again = copy_store(source, destination).summary()
        assert again.endswith(": 0 rows changed") and "already a copy" in again


@pytest.mark.parametrize("destination_kind", KINDS)
@pytest.mark.parametrize("source_kind", KINDS)
def test_a_store_that_never_had_a_reader_gives_the_copys_first_reader_id_1(
        tmp_path, request, source_kind, destination_kind):
    """No counter moved in the source (SQLite: no sqlite_sequence row, as a table that never
    had a row has none; PostgreSQL: a sequence never called), so none moves in the copy: its
    first reader is 1, not 2."""
    with _store(source_kind, tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        _no_counter_row(source)
        _no_counter_row(destination)
        source.upsert(_articles(2, "소식"))
        copy_store(source, destination)
        new, what = repo.add(destination, "first@example.com", [], "ko", "command", "v1", T0,
                             T0)
        assert what == "added" and new.id == 1


@pytest.mark.parametrize("destination_kind", KINDS)
@pytest.mark.parametrize("source_kind", KINDS)
def test_a_source_whose_readers_were_all_erased_never_gives_their_ids_again(
        tmp_path, request, source_kind, destination_kind):
    """No reader row to copy, yet the source's counter gave 1-3: the copy's counter starts
    after them (on SQLite, into a destination without a counter row: one the copy creates)."""
    with _store(source_kind, tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        for n in range(3):
            added, _ = repo.add(source, f"reader{n}@example.com", [], "ko", "command", "v1", T0,
                                T0)
            assert repo.erase(source, added.id)
        _no_counter_row(destination)
        copy_store(source, destination)
        assert repo.listing(destination) == []
        new, what = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
        assert what == "added" and new.id == 4


def _no_counter_row(store: Store) -> None:
    """SQLite keeps an AUTOINCREMENT table's counter in sqlite_sequence from its first insert
    on; a store whose subscribers table never had a row may have none."""
    if store.dialect == "sqlite":
        with store.transaction():
            store.db.execute("DELETE FROM sqlite_sequence WHERE name = 'subscribers'")


def test_a_damaged_source_is_named_and_the_destination_keeps_nothing(tmp_path) -> None:
    """A source file with a broken page (a disk error, a copy cut short) fails the copy while it
    reads: the error names the file and what to do, and the destination stays empty."""
    import sqlite3
    from dataclasses import replace

    from feedkit.store.articles import StoreError

    path = tmp_path / "source.db"
    with Store(path) as source:
        source.upsert([replace(a, content_html="<p>" + "본문 " * 300 + "</p>")
                       for a in _articles(300, "소식")])
    with sqlite3.connect(path) as db:   # everything into the file itself, then one page broken
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, size = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count",
                                                                         "page_size"))
    db.close()
    data = bytearray(path.read_bytes())
    middle = pages // 2 * size
    data[middle + 8:middle + size] = b"\xff" * (size - 8)
    path.write_bytes(bytes(data))
    with Store(path) as source, Store(tmp_path / "copy.db") as destination:
        with pytest.raises(StoreError) as caught:
            copy_store(source, destination)
        assert str(caught.value) == (
            f"{path}: cannot read for the copy: database disk image is malformed: the file is "
            "damaged; restore it from a backup or rebuild it with 'feedkit import' from your "
            "export (and --send-log)")
        assert caught.value.exit_code == 1
        assert _articles_of(destination) == 0


@pytest.mark.parametrize("destination_kind", KINDS)
def test_rows_of_a_two_column_key_are_replaced_and_deleted_by_their_whole_key(
        tmp_path, request, destination_kind):
    """The send log is keyed by (week, reader): with --replace a row that differs is rewritten
    and a row only the destination has is deleted, each found by both columns."""
    def log(store: Store) -> list[tuple]:
        return [tuple(r) for r in store.db.execute(
            "SELECT week, recipient, message_id, status FROM send_log ORDER BY 1, 2")]

    with _store("sqlite", tmp_path / "source", request) as source, \
            _store(destination_kind, tmp_path / "destination", request) as destination:
        source.record_send("2024-W24", "k1", "<a@x>", "sent")
        source.record_send("2024-W25", "k1", "<b@x>", "sent")
        destination.record_send("2024-W24", "k1", "<a@x>", "failed", "5.1.1")  # differs
        destination.record_send("2024-W24", "k2", "<c@x>", "sent")             # only here
        report = copy_store(source, destination, replace=True)
        assert log(destination) == log(source) == [("2024-W24", "k1", "<a@x>", "sent"),
                                                   ("2024-W25", "k1", "<b@x>", "sent")]
        sent = next(t for t in report.tables if t.name == "send_log")
        assert (sent.inserted, sent.updated, sent.deleted) == (1, 1, 1)
