"""``feedkit store copy``: every table of one store into another, SQLite or PostgreSQL.

A city starts on a SQLite file and moves to a shared PostgreSQL database when it outgrows it
(or back, or from one schema to another). The copy is made to be trusted:

- **Every table**, read from the stores' own catalogs (``sqlite_master``, ``pg_class``), not
  from a list kept here: a table a later migration adds is copied without anyone remembering
  to. Both stores are opened with :class:`~feedkit.store.articles.Store`, so the destination is
  created and migrated to the same schema version first; the two must then have the same tables and
  columns, or the copy refuses.
- **Rows as they are**, ids included: a subscriber's signed unsubscribe link names their id, so
  a copy that renumbered them would break every link already mailed. The destination's id
  counter (PostgreSQL's identity sequence, SQLite's ``sqlite_sequence``) is then moved past the
  copied ids *and* past the source's own counter (it never goes back), so the next new
  subscriber neither collides nor gets the id of one erased before the copy.
- **Never destroys data in the destination unless asked.** A copy goes ahead when the
  destination holds nothing the copy would overwrite or delete: it is empty, an identical copy
  (then nothing is written: "0 rows changed"), or holds only rows the source has too. Anything
  else (another city's schema, a trial that has moved on) is refused, naming per table how
  many rows differ, and nothing is written; ``replace=True`` (``--replace``) then makes the
  destination an exact copy, deleting its other rows. Merging two stores by ``import``'s rules
  was not chosen: those rules restore one site's own export, while two stores' subscriber ids,
  send logs and slugs cannot be joined without renumbering or guessing.
- **All or nothing**: one transaction on the destination (on PostgreSQL it also takes the
  site's write lock, so no feedkit process writes beside it); the source is read in one
  snapshot, so a ``feedkit update`` running meanwhile cannot leave half its rows in the copy.
- **Nothing personal in messages**: the report holds counts only, and a database error names
  the table, never a row (a subscriber's address is a row).

Memory stays small for a large store: the destination is compared by key and a 16-byte digest
per row, and the source is read twice (to compare, then to write) rather than held.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from feedkit.errors import FeedkitError, UsageError
from feedkit.store.urls import (
    URL_SCHEMES,
    is_url,
    param_secrets,
    password_pieces,
    pg_label,
    redact,
    schema_problem,
)

if TYPE_CHECKING:
    from feedkit.store.articles import Store

# Bookkeeping of the PostgreSQL backend, not data: the destination has its own (Store wrote it).
SKIP_TABLES = frozenset({"feedkit_schema"})
BATCH = 1000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class TableCopy:
    """What the copy did to one table of the destination."""

    name: str
    rows: int = 0        # rows in the source
    inserted: int = 0    # rows the destination lacked
    updated: int = 0     # rows the destination held with other values (only with replace)
    deleted: int = 0     # rows only the destination held (only with replace)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class CopyReport:
    source: str
    destination: str
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.tables)

    def summary(self) -> str:
        """One line for the terminal: counts only (never a row)."""
        where = f"{self.source} to {self.destination}"
        size = f"{self.rows} rows in {len(self.tables)} tables"
        if not self.changed:
            return f"{where}: already a copy ({size}): 0 rows changed"
        parts = [f"{sum(t.inserted for t in self.tables)} added"]
        updated, deleted = (sum(t.updated for t in self.tables),
                            sum(t.deleted for t in self.tables))
        if updated or deleted:
            parts += [f"{updated} replaced", f"{deleted} deleted"]
        return f"{where}: copied {size}: {', '.join(parts)}"


class DestinationDiffers(UsageError):
    """The destination holds rows the copy would overwrite or delete, and ``replace`` was not
    given. A usage error (exit 2): running again will not help, ``--replace`` or another
    destination will."""


# -- where to copy to --------------------------------------------------------------------------

def copy_target(value: str, environ: dict[str, str] | None = None) -> str | Path:
    """The destination named by ``--to``: a SQLite file path, a ``postgresql://`` URL without
    a password, or ``env:NAME`` for a URL (with its password) kept in the environment variable
    NAME. A password on the command line is refused: any user of the machine sees it in ``ps``,
    and it stays in the shell history and the CI log."""
    env = os.environ if environ is None else environ
    value = value.strip()
    if value.startswith("env:"):
        name = value[4:]
        if not _NAME.fullmatch(name):
            raise UsageError(f"--to {value}: expected env:NAME, the name of an environment "
                             "variable holding the destination's URL")
        found = env.get(name, "").strip()
        if not found:
            raise UsageError(f"--to {value}: ${name} is not set (or empty)")
        if "://" in found and not is_url(found):
            raise UsageError(f"--to {value}: ${name} is not a PostgreSQL URL "
                             "(postgresql://USER@HOST/DATABASE)")
        return found if is_url(found) else Path(found)
    if not value:
        raise UsageError("--to: empty; give a file path, a postgresql:// URL or env:NAME")
    if "://" in value:
        if not is_url(value):
            scheme = value.split("://", 1)[0]
            raise UsageError(f"--to: {scheme}:// is not a store; give a file path or a "
                             f"{URL_SCHEMES[0]}:// URL")
        # Found by text, not by parsing: a password holding / # or ? breaks the URL apart;
        # and in every form libpq reads (?password=, ?sslpassword=).
        if password_pieces(value) or param_secrets(value):
            raise UsageError(
                "--to: the URL holds a password, and a command line is visible to every user "
                "of this machine and stays in the shell history; put the URL in an "
                "environment variable and give --to env:NAME (or use ~/.pgpass or "
                "$PGPASSWORD)")
        return value
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"--to {value}: is a folder; give the store file's path")
    return path


def same_store(source: Store, target: str | Path, schema: str) -> bool:
    """True when ``target`` (+ ``schema``) is plainly ``source`` itself: the same file, or the
    same URL and schema. (Two spellings of one server are not caught; the copy onto itself
    would then change nothing.)"""
    if source.dialect == "sqlite":
        if is_url(target):
            return False
        try:
            return Path(target).exists() and os.path.samefile(source.path, target)
        except OSError:
            return False
    if not is_url(target):
        return False
    try:
        label = pg_label(str(target), schema)
    except ValueError:   # not a URL that parses: the store will say so when it connects
        return False
    return label == source.label or (not schema and redact(str(target)) == source.label)


def check_schema(schema: str) -> str:
    problem = schema_problem(schema) if schema else ""
    if problem:
        raise UsageError(f"--schema {schema!r}: {problem}")
    return schema


# -- the copy ----------------------------------------------------------------------------------

def copy_store(source: Store, destination: Store, *, replace: bool = False,
               progress: Callable[[int], None] | None = None) -> CopyReport:
    """Copy every table of ``source`` into ``destination`` (see the module docstring);
    ``progress`` is called with the number of source rows handled as the copy goes."""
    report = CopyReport(source.label, destination.label)
    with _snapshot(source), destination.transaction():
        tables = _plan(source, destination)
        # First compare everything (reads only), so a refusal names every table and writes
        # nothing; then write.
        diffs = [_diff(source, destination, t) for t in tables]
        refused = [(t, d) for t, d in zip(tables, diffs, strict=True)
                   if not replace and (d.changed_keys or d.extra_keys)]
        if refused:
            raise DestinationDiffers(_refusal(source, destination, refused))
        for table, diff in zip(tables, diffs, strict=True):
            with _writing(destination, table.name):
                report.tables.append(_write(source, destination, table, diff, progress))
        for table in tables:
            _advance_identity(destination, table, _high_water(source, table))
    return report


def count_rows(store: Store) -> int:
    """Rows in every table the copy reads (for a progress display)."""
    return sum(store.db.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0]
               for name in _tables(store))


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]       # the primary key's columns (all columns when it has none)

    def select(self, order: bool = True) -> str:
        sql = f"SELECT {', '.join(_q(c) for c in self.columns)} FROM {_q(self.name)}"
        return sql + (f" ORDER BY {', '.join(_q(c) for c in self.key)}" if order else "")


@dataclass
class _Diff:
    rows: int = 0
    new: int = 0
    dest_empty: bool = True
    new_keys: set[tuple] = field(default_factory=set)   # only when dest_empty is False
    changed_keys: list[tuple] = field(default_factory=list)
    extra_keys: list[tuple] = field(default_factory=list)


def _q(name: str) -> str:
    """A quoted identifier (catalog names only ever reach here; checked anyway)."""
    if not _NAME.fullmatch(name):
        raise FeedkitError(f"unexpected table or column name {name!r} in the store")
    return f'"{name}"'


def _plan(source: Store, destination: Store) -> list[_Table]:
    """The tables to copy, from the source's catalog, checked against the destination's."""
    src, dst = _tables(source), _tables(destination)
    if set(src) != set(dst):
        only_src = sorted(set(src) - set(dst))
        only_dst = sorted(set(dst) - set(src))
        raise FeedkitError(
            f"{destination.label}: its tables differ from {source.label}'s although both are at "
            f"schema version {destination.schema_version}"
            + (f"; only in the source: {', '.join(only_src)}" if only_src else "")
            + (f"; only in the destination: {', '.join(only_dst)}" if only_dst else ""))
    plan = []
    for name in sorted(src):
        columns, key = src[name]
        dst_columns, _ = dst[name]
        if set(columns) != set(dst_columns):
            odd = ", ".join(sorted(set(columns) ^ set(dst_columns)))
            raise FeedkitError(f"{destination.label}: table {name} has other columns than in "
                               f"{source.label} ({odd})")
        plan.append(_Table(name, tuple(columns), tuple(key) or tuple(columns)))
    return plan


def _tables(store: Store) -> dict[str, tuple[list[str], list[str]]]:
    """table -> (columns in order, primary-key columns in order), from the catalog."""
    db = store.db
    out: dict[str, tuple[list[str], list[str]]] = {}
    if store.dialect == "sqlite":
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
        for name in names:
            if name in SKIP_TABLES:
                continue
            info = db.execute(f"PRAGMA table_info({_q(name)})").fetchall()
            columns = [r[1] for r in info]
            key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            out[name] = (columns, key)
        return out
    names = [r[0] for r in db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')")]
    for name in names:
        if name in SKIP_TABLES:
            continue
        oid = db.execute("SELECT c.oid FROM pg_class c JOIN pg_namespace n "
                         "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                         "AND c.relname = ?", (name,)).fetchone()[0]
        columns = [r[0] for r in db.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = ? AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum", (oid,))]
        key = [r[0] for r in db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = ? AND i.indisprimary "
            "ORDER BY array_position(i.indkey::smallint[], a.attnum)", (oid,))]
        out[name] = (columns, key)
    return out


@contextmanager
def _snapshot(store: Store) -> Iterator[None]:
    """Read the source in one consistent snapshot (a read transaction on SQLite's WAL;
    REPEATABLE READ on PostgreSQL), so tables written meanwhile are seen all before or all
    after."""
    begin = ("BEGIN" if store.dialect == "sqlite"
             else "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    store.db.execute(begin)
    try:
        yield
    finally:
        store.db.execute("ROLLBACK")   # nothing was written: ending it is all


def _scan(store: Store, sql: str) -> Iterator[tuple]:
    """The rows of ``sql``, streamed (a server-side cursor on PostgreSQL, so a large table is
    never held whole). Values come as str, int, bytes or None from both drivers."""
    if store.dialect == "postgresql":
        import psycopg

        from feedkit.store.postgres import PgStoreError

        try:
            with store.db.conn.cursor(name="feedkit_copy") as cur:
                cur.itersize = 2000
                cur.execute(sql)
                yield from cur
        except psycopg.Error as exc:
            raise PgStoreError(store.label, exc, "cannot read for the copy") from None
        return
    try:
        yield from store.db.execute(sql)
    except sqlite3.Error as exc:
        from feedkit.store.articles import StoreError

        raise StoreError(Path(store.label), exc, "cannot read for the copy") from None


def _digest(row: tuple) -> bytes:
    """16 bytes that differ for rows that differ. pickle is exact for the store's value types
    (str, int, bytes, None) and six times quicker than repr; equal rows can, rarely, pickle
    apart (a repeated string object is written once), so a mismatch is checked on the rows."""
    return hashlib.blake2b(pickle.dumps(row, 5), digest_size=16).digest()


def _diff(source: Store, destination: Store, table: _Table) -> _Diff:
    """How the destination's rows of ``table`` differ from the source's, by key and digest."""
    diff = _Diff()
    key_at = [table.columns.index(c) for c in table.key]
    held = {tuple(row[i] for i in key_at): _digest(row)
            for row in _scan(destination, table.select(order=False))}
    diff.dest_empty = not held
    if not held:
        diff.rows = diff.new = source.db.execute(
            f"SELECT count(*) FROM {_q(table.name)}").fetchone()[0]
        return diff
    by_key = table.select(order=False) + " WHERE " + " AND ".join(f"{_q(c)} = ?"
                                                                 for c in table.key)
    for row in _scan(source, table.select(order=False)):
        diff.rows += 1
        key = tuple(row[i] for i in key_at)
        theirs = held.pop(key, None)
        if theirs is None:
            diff.new += 1
            diff.new_keys.add(key)
        elif theirs != _digest(row) and \
                tuple(destination.db.execute(by_key, key).fetchone()) != row:
            diff.changed_keys.append(key)
    diff.extra_keys = list(held)
    return diff


def _refusal(source: Store, destination: Store, refused: list[tuple[_Table, _Diff]]) -> str:
    parts = []
    for table, diff in refused:
        bits = []
        if diff.changed_keys:
            bits.append(f"{len(diff.changed_keys)} rows differ")
        if diff.extra_keys:
            bits.append(f"{len(diff.extra_keys)} rows not in the source")
        parts.append(f"{table.name}: {', '.join(bits)}")
    return (f"{destination.label}: holds data that is not in {source.label} ({'; '.join(parts)})"
            "; nothing was copied. Copy into a new or empty store, or give --replace to make "
            "the destination an exact copy (its other rows are deleted)")


@contextmanager
def _writing(destination: Store, table: str) -> Iterator[None]:
    """A database error while writing names the destination and the table, never a row."""
    try:
        yield
    except sqlite3.Error as exc:
        from feedkit.store.articles import StoreError

        raise StoreError(Path(destination.label), exc, f"cannot copy table {table}") from None
    except FeedkitError as exc:
        if str(exc).startswith(destination.label):
            error = FeedkitError(f"{exc} (copying table {table})")
            error.exit_code = exc.exit_code
            raise error from None
        raise


def _write(source: Store, destination: Store, table: _Table, diff: _Diff,
           progress: Callable[[int], None] | None) -> TableCopy:
    done = TableCopy(table.name, rows=diff.rows, inserted=diff.new,
                     updated=len(diff.changed_keys), deleted=len(diff.extra_keys))
    if not done.changed:
        if progress:
            progress(diff.rows)
        return done
    key_at = [table.columns.index(c) for c in table.key]
    where = " AND ".join(f"{_q(c)} = ?" for c in table.key)
    # Deletes first (rows that change are deleted and inserted again): a unique column (a
    # subscriber's address, a category's slug) may move between rows, and the destination
    # must never hold two rows with one value, even for a moment.
    doomed = diff.changed_keys + diff.extra_keys
    for start in range(0, len(doomed), BATCH):
        destination.db.executemany(f"DELETE FROM {_q(table.name)} WHERE {where}",
                                   doomed[start:start + BATCH])
    insert = (f"INSERT INTO {_q(table.name)} ({', '.join(_q(c) for c in table.columns)}) "
              f"VALUES ({', '.join('?' * len(table.columns))})")
    # An empty destination table takes every row; otherwise only the new and changed ones.
    wanted = None if diff.dest_empty else set(diff.changed_keys) | diff.new_keys
    batch: list[tuple] = []
    scanned = 0
    write = _copy_in if destination.dialect == "postgresql" else \
        (lambda dest, _table, rows: dest.db.executemany(insert, rows))
    for row in _scan(source, table.select()):
        scanned += 1
        if progress and scanned % BATCH == 0:
            progress(BATCH)
        if wanted is not None and tuple(row[i] for i in key_at) not in wanted:
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            write(destination, table, batch)
            batch = []
    if batch:
        write(destination, table, batch)
    if progress and scanned % BATCH:
        progress(scanned % BATCH)
    return done


def _copy_in(destination: Store, table: _Table, rows: list[tuple]) -> None:
    """Rows into a PostgreSQL table with COPY (see PgDatabase.copy_rows)."""
    destination.db.copy_rows(table.name, table.columns, rows)


def _high_water(store: Store, table: _Table) -> int:
    """The highest id ``table``'s counter has handed out (0: none, or no counter): on SQLite
    the AUTOINCREMENT mark in ``sqlite_sequence``, on PostgreSQL the identity sequence."""
    db = store.db
    if store.dialect == "sqlite":
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?",
                             (table.name,)).fetchone()
            return int(row[0]) if row else 0
        return 0
    top = 0
    for sequence in _sequences(store, table):
        last, called = db.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
        top = max(top, last if called else last - 1)
    return top


def _sequences(store: Store, table: _Table) -> list[str]:
    """The sequences behind ``table``'s PostgreSQL identity columns."""
    db = store.db
    found = []
    for (column,) in db.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relname = ? AND a.attidentity <> ''", (table.name,)).fetchall():
        sequence = db.execute("SELECT pg_get_serial_sequence(?, ?)",
                              (_q(table.name), column)).fetchone()[0]
        if sequence is not None:
            found.append(sequence)
    return found


def _advance_identity(destination: Store, table: _Table, source_mark: int) -> None:
    """Id counters hand out ids the copied rows did not come from: move the destination's past
    the highest id copied and past ``source_mark`` (the source's own counter), so the next new
    row neither collides nor reuses an id the source had already given (an erased reader's:
    their old links must never name someone else). Never moved back. On SQLite only a table
    with AUTOINCREMENT has a counter; the others take max(id) + 1 by themselves."""
    db = destination.db
    if destination.dialect == "sqlite":
        sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                         (table.name,)).fetchone()
        if not sql or "AUTOINCREMENT" not in sql[0].upper():
            return
        key = table.key[0]
        highest = db.execute(f"SELECT max({_q(key)}) FROM {_q(table.name)}").fetchone()[0]
        mark = max(highest or 0, source_mark)
        if db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?",
                      (mark, table.name, mark)).rowcount == 0 and mark and not db.execute(
                "SELECT 1 FROM sqlite_sequence WHERE name = ?", (table.name,)).fetchone():
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                       (table.name, mark))
        return
    for sequence in _sequences(destination, table):
        column = table.key[0]
        highest = db.execute(f"SELECT max({_q(column)}) FROM {_q(table.name)}").fetchone()[0]
        mark = max(highest or 0, source_mark)
        if not mark:
            continue
        last, called = db.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
        next_id = last + 1 if called else last
        if next_id <= mark:
            db.execute("SELECT setval(?, ?)", (sequence, mark))
