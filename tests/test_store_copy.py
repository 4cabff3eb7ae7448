"""`feedkit store copy`: every table of one store into another, SQLite <-> PostgreSQL.

Rows are read back with sqlite3 and psycopg directly (never with feedkit's store), table lists
from each database's own catalog, and the source store fills every table feedkit has (a test
fails when a later migration adds a table the fixture leaves empty, so the copy of that table
is tested too).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pg
import pytest
from click.testing import CliRunner
from conftest import Site

from feedkit.cli import cli
from feedkit.errors import UsageError
from feedkit.store.articles import Store
from feedkit.store.copy import DestinationDiffers, copy_store, copy_target

# Written by hand: the tables feedkit had when the copy was written. The catalog may hold more
# (a later migration); it must never hold fewer.
KNOWN_TABLES = {"articles", "meta", "outputs", "send_log", "http_cache", "category_slugs",
                "digest_approvals", "digest_notes", "withdrawn", "subscribers", "send_claims",
                "bounce_reports", "web_outbox", "unsubscribed"}
ADDRESSES = ("reader.one@example.org", "독자@example.kr", "reader.three@example.org")
WEEK = "2024-W24"


# -- independent readers ---------------------------------------------------------------------

def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows (columns by name, rows sorted) read with sqlite3."""
    db = sqlite3.connect(path)
    try:
        out = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name NOT LIKE 'sqlite_%'"):
            cols = sorted(r[1] for r in db.execute(f'PRAGMA table_info("{table}")'))
            sel = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(db.execute(f'SELECT {sel} FROM "{table}"').fetchall())
        return out
    finally:
        db.close()


def pg_rows(url: str, schema: str) -> dict[str, list[tuple]]:
    """The same, read with psycopg from information_schema (the version table left out: it is
    the backend's bookkeeping, SQLite keeps it in PRAGMA user_version)."""
    with pg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' AND table_name <> 'feedkit_schema'", (schema,))]
        out = {}
        for table in tables:
            cols = sorted(r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s", (schema, table)))
            sel = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(conn.execute(
                f'SELECT {sel} FROM "{schema}"."{table}"').fetchall())
        return out


def pg_xmins(url: str, schema: str) -> dict[str, list[str]]:
    """Each row's creating transaction: a row that was rewritten gets a new one."""
    with pg.connect(url) as conn:
        return {t: sorted(r[0] for r in conn.execute(
                    f'SELECT xmin::text FROM "{schema}"."{t}"'))
                for t in pg_rows(url, schema)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(site: Site, *args: str, env: dict[str, str] | None = None):
    """feedkit in-process with stdout and stderr apart (both checked for addresses)."""
    return CliRunner().invoke(cli, ["--config", str(site.config), *args], env=env)


# -- a store with something in every table -------------------------------------------------

def fill(site: Site) -> None:
    """Every table gets rows through the commands that write them in real use, except the four
    only network runs write (send_log, send_claims, http_cache, unsubscribed): raw SQL on the
    store's own database. (A send claim outlives its run only when the run was killed.)"""
    site.run("import")
    site.run("build")
    for address in ADDRESSES:
        site.run("subscribers", "add", address, "--category", "보도자료")
    # A gap in the ids (#2 erased): the copy must keep #1 and #3 as they are.
    site.run("subscribers", "remove", "--erase", ADDRESSES[1])
    site.run("digest", "approve", "--week", WEEK)
    site.run("digest", "note", "--week", WEEK, "**이번 주** 소식")
    first = site.run("export").output.splitlines()[0]


    site.run("withdraw", json.loads(first)["id"], "--reason", "정정 보도", "--no-build")
    rows = [("send_log", "INSERT INTO send_log (week, recipient, message_id, status, attempts, "
             "error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (WEEK, "k1:abcdef", "<1@feedkit>", "sent", 1, "", "2024-06-17T00:00:00+00:00")),
            ("send_claims", "INSERT INTO send_claims (week, recipient, claimant, claimed_at) "
             "VALUES (?, ?, ?, ?)", (WEEK, "k2:abcdef", "0f1e2d3c", "2024-06-17T00:00:00+00:00")),
            ("http_cache", "INSERT INTO http_cache (url, etag, last_modified, fetched_at) "
             "VALUES (?, ?, ?, ?)",
             ("https://www.brcn.go.kr/rss", '"abc"', "Mon, 17 Jun 2024 00:00:00 GMT",
              "2024-06-17T00:00:00+00:00")),
            # written when 'digest unsubscribes' reads a request from the mailbox
            ("unsubscribed", "INSERT INTO unsubscribed (recipient, at, via) VALUES (?, ?, ?)",
             ("hmac-sha256:" + "ab" * 32, "2024-06-18T00:00:00+00:00", "mailto")),
            ("bounce_reports", "INSERT INTO bounce_reports (week, recipient, message_id, "
             "counted_at) VALUES (?, ?, ?, ?)",
             (WEEK, "k1:abcdef", "<1@feedkit>", "2024-06-18T00:00:00+00:00")),
            ("web_outbox", "INSERT INTO web_outbox (recipient, who, data, attempts, next_try, "
             "expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (ADDRESSES[0], "#0123abcd", "Subject: x\r\n\r\nbody\r\n", 2, 1718582400,
              1719187200, "2024-06-17T00:00:00+00:00"))]
    for _table, sql, params in rows:
        site.raw(sql, params)


class StoreSite(Site):
    """A Site whose raw SQL goes to its store, SQLite or PostgreSQL."""

    def __init__(self, root: Path, backend: pg.Backend | None = None):
        super().__init__(root)
        self.backend = backend
        if backend is not None and backend.is_pg:
            backend.configure(self)

    def raw(self, sql: str, params: tuple) -> None:
        if self.backend is not None and self.backend.is_pg:
            with pg.connect(self.backend.url) as conn:
                conn.execute(f'SET search_path TO "{self.backend.schema}"')
                conn.execute(sql.replace("?", "%s"), params)
        else:
            with sqlite3.connect(self.db) as db:
                db.execute(sql, params)

    def rows_all(self) -> dict[str, list[tuple]]:
        if self.backend is not None and self.backend.is_pg:
            return pg_rows(self.backend.url, self.backend.schema)
        return sqlite_rows(self.db)


@pytest.fixture
def source(tmp_path: Path) -> StoreSite:
    site = StoreSite(tmp_path / "site")
    fill(site)
    return site


def test_the_source_fixture_fills_every_table_feedkit_has(source: StoreSite) -> None:
    rows = sqlite_rows(source.db)
    assert set(rows) >= KNOWN_TABLES
    assert [t for t, r in rows.items() if not r] == []
    assert [r[0] for r in source.rows("SELECT id FROM subscribers ORDER BY id")] == [1, 3]


# -- both directions -------------------------------------------------------------------------

def test_sqlite_to_postgresql_copies_every_row_and_prints_no_address(
        source: StoreSite, pg_schema) -> None:
    url, schema = pg_schema
    result = run(source, "store", "copy", "--to", url, "--schema", schema, "-v")
    assert result.exit_code == 0, result.output + result.stderr
    expected = sqlite_rows(source.db)
    assert pg_rows(url, schema) == expected
    total = sum(len(r) for r in expected.values())
    assert f"copied {total} rows in {len(expected)} tables: {total} added" in result.stdout
    assert "  subscribers: 2 rows; 2 added, 0 replaced, 0 deleted" in result.stdout
    for address in ADDRESSES:
        assert address not in result.stdout + result.stderr


def test_postgresql_to_sqlite_copies_every_row(tmp_path: Path, pg_schema) -> None:
    backend = pg.Backend("postgresql", tmp_path, pg_schema)
    site = StoreSite(tmp_path / "site", backend)
    fill(site)
    expected = pg_rows(*pg_schema)
    assert set(expected) >= KNOWN_TABLES and all(expected.values())
    target = tmp_path / "moved" / "back.db"
    result = run(site, "store", "copy", "--to", str(target))
    assert result.exit_code == 0, result.output + result.stderr
    assert sqlite_rows(target) == expected
    assert "0 rows changed" not in result.stdout


def test_sqlite_to_postgresql_to_sqlite_gives_the_same_rows(
        source: StoreSite, pg_schema, tmp_path: Path) -> None:
    url, schema = pg_schema
    back = tmp_path / "back.db"
    with Store(source.db) as a, Store(url, schema=schema) as b:
        copy_store(a, b)
    with Store(url, schema=schema) as b, Store(back) as c:
        report = copy_store(b, c)
    assert report.changed == report.rows > 0
    assert sqlite_rows(back) == sqlite_rows(source.db)


def test_postgresql_to_postgresql_between_schemas(
        source: StoreSite, pg_schema, pg_url) -> None:
    url, schema = pg_schema
    with Store(source.db) as a, Store(url, schema=schema) as b:
        copy_store(a, b)
    with pg.fresh_schema(pg_url) as other:
        # The configured store on PostgreSQL, copied with --schema into a second schema.
        env = {"FEEDKIT_STORE_URL": url}
        source.edit_config(('[store]\npath = "articles.db"\n',
                            f'[store]\nschema = "{schema}"\n'))
        result = run(source, "store", "copy", "--to", url, "--schema", other.schema, env=env)
        assert result.exit_code == 0, result.output + result.stderr
        assert pg_rows(url, other.schema) == pg_rows(url, schema) == sqlite_rows(source.db)
        # Without --schema the destination would be [store] schema: the store itself.
        result = run(source, "store", "copy", "--to", url, env=env)
        assert result.exit_code == 2
        assert "that is the configured store itself" in result.stderr


# -- idempotent, and what a destination with other data gets -------------------------------

def test_a_second_copy_to_postgresql_changes_nothing(source: StoreSite, pg_schema) -> None:
    url, schema = pg_schema
    assert run(source, "store", "copy", "--to", url, "--schema", schema).exit_code == 0
    before = pg_xmins(url, schema)
    result = run(source, "store", "copy", "--to", url, "--schema", schema)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.rstrip().endswith(": 0 rows changed")
    assert pg_xmins(url, schema) == before   # not one row rewritten
    assert pg_rows(url, schema) == sqlite_rows(source.db)


def test_a_second_copy_to_sqlite_leaves_the_file_as_it_was(
        source: StoreSite, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    assert run(source, "store", "copy", "--to", str(target)).exit_code == 0
    before = sha256(target)
    result = run(source, "store", "copy", "--to", str(target))
    assert result.exit_code == 0
    assert "already a copy" in result.stdout and "0 rows changed" in result.stdout
    assert sha256(target) == before
    assert sqlite_rows(target) == sqlite_rows(source.db)


def test_an_older_copy_that_only_lacks_rows_is_topped_up(
        source: StoreSite, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    assert run(source, "store", "copy", "--to", str(target)).exit_code == 0
    source.run("subscribers", "add", "late@example.org")
    result = run(source, "store", "copy", "--to", str(target))
    assert result.exit_code == 0, result.output + result.stderr
    assert "1 added" in result.stdout and "deleted" not in result.stdout
    assert sqlite_rows(target) == sqlite_rows(source.db)


def _other_site(root: Path, backend: pg.Backend | None) -> StoreSite:
    """A store holding other data: one reader and an approval the source does not have, and a
    reader whose row differs (same id, another address)."""
    other = StoreSite(root, backend)
    other.run("import")
    other.run("subscribers", "add", "someone.else@example.org")
    other.run("subscribers", "add", ADDRESSES[0])   # id 2 here; id 1 in the source
    other.run("digest", "approve", "--week", "2023-W01")
    return other


def test_a_destination_with_other_data_is_refused_until_replace(
        source: StoreSite, backend: pg.Backend, tmp_path: Path) -> None:
    other = _other_site(tmp_path / "other", backend)
    before = other.rows_all()
    to = str(backend.url if backend.is_pg else other.db)
    schema = ["--schema", backend.schema] if backend.is_pg else []
    result = run(source, "store", "copy", "--to", to, *schema)
    assert result.exit_code == 2, result.output + result.stderr
    tail = ("); nothing was copied. Copy into a new or empty store, or give --replace to make "
            "the destination an exact copy (its other rows are deleted)\n")
    assert result.stderr.startswith("feedkit: error: ") and result.stderr.endswith(tail)
    parts = result.stderr[:-len(tail)].split(
        f": holds data that is not in {source.db} (", 1)[1].split("; ")
    assert "subscribers: 1 rows differ, 1 rows not in the source" in parts
    assert "digest_approvals: 1 rows not in the source" in parts
    assert all(re.fullmatch(r"[a-z_]+: (\d+ rows differ|\d+ rows differ, \d+ rows not in the "
                            r"source|\d+ rows not in the source)", part) for part in parts)
    assert parts == sorted(parts)   # table by table, in name order
    assert "Traceback" not in result.output
    assert other.rows_all() == before   # nothing written
    for address in (*ADDRESSES, "someone.else@example.org"):
        assert address not in result.stdout + result.stderr

    # --replace: the destination becomes an exact copy, although an address moves from id 2
    # to id 1 (the unique column never holds it twice, even inside the transaction).
    result = run(source, "store", "copy", "--to", to, *schema, "--replace")
    assert result.exit_code == 0, result.output + result.stderr
    assert other.rows_all() == sqlite_rows(source.db)
    assert re.fullmatch(rf"{re.escape(str(source.db))} to .+: copied \d+ rows in \d+ tables: "
                        r"\d+ added, [1-9]\d* replaced, [1-9]\d* deleted\n", result.stdout)
    again = run(source, "store", "copy", "--to", to, *schema)
    assert again.exit_code == 0 and "0 rows changed" in again.stdout


def test_new_subscribers_after_a_copy_to_postgresql_get_new_ids(
        source: StoreSite, tmp_path: Path, pg_schema) -> None:
    url, schema = pg_schema
    assert run(source, "store", "copy", "--to", url, "--schema", schema).exit_code == 0
    moved = StoreSite(tmp_path / "moved", pg.Backend("postgresql", tmp_path, pg_schema))
    result = moved.run("subscribers", "add", "new.reader@example.org")
    assert "subscriber #4: " in result.output
    with pg.connect(url) as conn:
        ids = [r[0] for r in conn.execute(f'SELECT id FROM "{schema}".subscribers ORDER BY id')]
    assert ids == [1, 3, 4]


# -- all or nothing, errors ------------------------------------------------------------------

def test_a_failure_half_way_leaves_the_destination_untouched(
        source: StoreSite, pg_schema) -> None:
    url, schema = pg_schema
    # SQLite keeps a NUL inside text, PostgreSQL refuses it: the subscribers table comes after
    # articles, meta, outputs, send_log... in the copy, which must undo all of those.
    with sqlite3.connect(source.db) as db:
        db.execute("UPDATE subscribers SET last_bounce = ? WHERE id = 3", ("550\x00 no",))
    result = run(source, "store", "copy", "--to", url, "--schema", schema)
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "copying table subscribers" in result.stderr
    assert "NUL" in result.stderr
    for address in ADDRESSES:
        assert address not in result.stderr
    rows = pg_rows(url, schema)
    assert set(rows) >= KNOWN_TABLES   # the store was created and migrated...
    assert {t: r for t, r in rows.items() if r} == {}   # ...but no row copied


def test_a_unique_violation_on_postgresql_never_shows_the_value(pg_schema) -> None:
    url, schema = pg_schema
    with Store(url, schema=schema) as store:
        row = ("a@example.org", "secret.reader@example.org", "active", "2024-01-01", "form",
               "2024-01-01", "2024-01-01")
        sql = ("INSERT INTO subscribers (address, normalised, status, consent_at, consent_via, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        store.db.execute(sql, row)
        with pytest.raises(Exception) as caught:
            store.db.execute(sql, row)
    assert "duplicate key" in str(caught.value)
    assert "secret.reader" not in str(caught.value)


@pytest.mark.parametrize("url", ["postgresql://feedkit:s3cr3t@db.example/x",
                                 "postgresql://feedkit:s3/cr#3t@db.example:5432/x",
                                 "postgres://feedkit:s3%2Fcr3t@db.example/x"])
def test_a_password_on_the_command_line_is_refused_and_never_echoed(
        source: StoreSite, url: str) -> None:
    result = run(source, "store", "copy", "--to", url)
    assert result.exit_code == 2
    for piece in ("s3cr3t", "s3", "cr", "3t", "s3%2Fcr3t"):
        assert piece not in result.output + result.stderr
    assert result.stderr == (
        "feedkit: error: --to: the URL holds a password, and a command line is visible to "
        "every user of this machine and stays in the shell history; put the URL in an "
        "environment variable and give --to env:NAME (or use ~/.pgpass or $PGPASSWORD)\n")


def test_the_url_with_its_password_comes_from_the_environment(
        source: StoreSite, pg_schema) -> None:
    url, schema = pg_schema
    # The test server trusts loopback logins, so any password is accepted (and must not show).
    with_password = url.replace("postgres@", "postgres:s3cr3t@", 1)
    assert with_password != url
    result = run(source, "store", "copy", "--to", "env:COPY_TO", "--schema", schema,
                 env={"COPY_TO": with_password})
    assert result.exit_code == 0, result.output + result.stderr
    assert "s3cr3t" not in result.output + result.stderr
    assert "postgres:***@" in result.stdout
    assert pg_rows(url, schema) == sqlite_rows(source.db)


@pytest.mark.parametrize("args, message", [
    (["--to", "env:NOT_SET_ANYWHERE"],
     "--to env:NOT_SET_ANYWHERE: $NOT_SET_ANYWHERE is not set (or empty)"),
    (["--to", "mysql://db.example/x"],
     "--to: mysql:// is not a store; give a file path or a postgresql:// URL"),
    (["--to", "mysql://db.example/x?next=http://y"],     # the scheme is before the first ://
     "--to: mysql:// is not a store; give a file path or a postgresql:// URL"),
    (["--to", "copy.db", "--schema", "x"], "--schema: only for a PostgreSQL destination"),
    (["--to", "articles.db"], "--to: that is the configured store itself ({db})"),
    (["--to", "."], "--to .: is a folder; give the store file's path"),
    (["--to", "postgresql://u@h/d", "--schema", "Bad-Name"],
     "--schema 'Bad-Name': not a plain schema name (lower-case letters, digits and _, not "
     "starting with a digit, at most 63 characters)"),
    (["--to", " "], "--to: empty; give a file path, a postgresql:// URL or env:NAME"),
    (["--to", "env:1X"], "--to env:1X: expected env:NAME, the name of an environment variable "
                         "holding the destination's URL"),
    (["--to", "env:COPY_TO_SQLITE_URL"], "--to env:COPY_TO_SQLITE_URL: $COPY_TO_SQLITE_URL is "
                                         "not a PostgreSQL URL (postgresql://USER@HOST/DATABASE)"),
])
def test_usage_errors_exit_2_with_one_line(source: StoreSite, monkeypatch, args, message
                                           ) -> None:
    """Each usage error is one whole line on stderr, exit 2."""
    monkeypatch.chdir(source.root)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    monkeypatch.setenv("COPY_TO_SQLITE_URL", "sqlite:///copy.db")
    result = run(source, "store", "copy", *args)
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stderr == f"feedkit: error: {message.format(db=source.db)}\n"


def test_copy_target_reads_paths_urls_and_the_environment(tmp_path: Path) -> None:
    assert copy_target("out/x.db") == Path("out/x.db")
    assert copy_target("postgresql://u@h:5432/d") == "postgresql://u@h:5432/d"
    assert copy_target("env:X", {"X": "postgresql://u:pw@h/d"}) == "postgresql://u:pw@h/d"
    assert copy_target("env:X", {"X": str(tmp_path / "y.db")}) == tmp_path / "y.db"
    with pytest.raises(UsageError):
        copy_target("env:X", {"X": "sqlite:///x.db"})
    with pytest.raises(UsageError):
        copy_target("postgres://u:pw@h/d")


def test_refusal_is_an_exception_the_library_caller_can_catch(
        source: StoreSite, tmp_path: Path) -> None:
    target = tmp_path / "t.db"
    with Store(target) as t:
        t.set_meta("generation", "999")
    with Store(source.db) as a, Store(target) as b, pytest.raises(DestinationDiffers) as caught:
        copy_store(a, b)
    assert caught.value.exit_code == 2
    assert "meta: 1 rows differ" in str(caught.value)


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:pa/ss#x@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
    ("postgresql://u:p@h:xx/db", "postgresql://u:***@h:xx/db"),
    ("postgresql://u:s3cr3t@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
])
def test_redact_cuts_out_a_password_even_one_that_breaks_the_url(url: str, shown: str) -> None:
    from feedkit.store.urls import redact

    assert redact(url) == shown


def test_a_broken_url_from_the_environment_never_shows_its_password(source: StoreSite) -> None:
    # An unescaped / and # in the password: urllib sees no password and libpq a host "u".
    result = run(source, "store", "copy", "--to", "env:COPY_TO",
                 env={"COPY_TO": "postgresql://u:pa/ss#word@127.0.0.1:1/x"})
    assert result.exit_code == 1
    assert "cannot connect" in result.stderr and "u:***@127.0.0.1:1/x" in result.stderr
    for piece in ("pa/ss", "ss#word", "word"):
        assert piece not in result.stderr
