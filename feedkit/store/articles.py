"""The SQLite article store.

One file, nothing to start. The schema is versioned with ``PRAGMA user_version`` and upgraded by
the numbered steps in :data:`MIGRATIONS`, so a store written by an older feedkit keeps working.

Dates are kept twice: as ISO 8601 text with the original offset (what users see, what export
writes) and as integer Unix seconds (what indexes sort and range-scan on). Each article carries a
content hash, so re-importing the same data costs one indexed read and no write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.model import Article
from feedkit.store.archive_table import MIGRATION as ARCHIVE_MIGRATION
from feedkit.store.article_extras import MIGRATION as EXTRAS_MIGRATION
from feedkit.store.changes import TABLE as COUNTS_TABLE
from feedkit.store.changes import CategoryCount, articles_changed, categories
from feedkit.store.claims_table import TABLE as SEND_CLAIMS_TABLE
from feedkit.store.selection import article_filter
from feedkit.store.sqlite import StoreError
from feedkit.store.subscribers_table import MIGRATION as SUBSCRIBERS_MIGRATION
from feedkit.store.subscribers_table import migrate_8
from feedkit.store.unsubscribed_table import MIGRATION as UNSUBSCRIBED_TABLE
from feedkit.store.url_keys import adopt_spellings
from feedkit.store.withdrawn_table import WITHDRAWN_TABLE, withdrawn_among
from feedkit.text.urlkey import url_key

# Each entry upgrades the schema by one version; never edit a released step, append a new one.
# A step is SQL, or a function of the connection for what SQL cannot do alone.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: articles, indexes for "latest N", "latest N in category" and "published in [a, b)".
    """
    CREATE TABLE articles (
        id            TEXT PRIMARY KEY,
        url           TEXT NOT NULL,
        title         TEXT NOT NULL,
        summary       TEXT NOT NULL DEFAULT '',
        content_html  TEXT NOT NULL DEFAULT '',
        published     TEXT NOT NULL,
        published_ts  INTEGER NOT NULL,
        updated       TEXT NOT NULL,
        updated_ts    INTEGER NOT NULL,
        author        TEXT NOT NULL DEFAULT '',
        category      TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        image         TEXT NOT NULL DEFAULT '',
        hash          TEXT NOT NULL,
        first_seen    TEXT NOT NULL,
        last_changed  TEXT NOT NULL
    );
    CREATE INDEX articles_latest ON articles (published_ts DESC, id DESC);
    CREATE INDEX articles_category_latest ON articles (category, published_ts DESC, id DESC);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE outputs (
        path         TEXT PRIMARY KEY,
        fingerprint  TEXT NOT NULL,
        stamp        TEXT NOT NULL
    );
    -- The digest send log: one row per (week, recipient) so a re-run never mails anyone twice.
    CREATE TABLE send_log (
        week        TEXT NOT NULL,
        recipient   TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        status      TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        error       TEXT NOT NULL DEFAULT '',
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (week, recipient)
    );
    -- Conditional GET state for fetched sources (ETag / Last-Modified per URL).
    CREATE TABLE http_cache (
        url            TEXT PRIMARY KEY,
        etag           TEXT NOT NULL DEFAULT '',
        last_modified  TEXT NOT NULL DEFAULT '',
        fetched_at     TEXT NOT NULL
    );
    """,
    # 2: category feed slugs, remembered, so a category's feed URL never moves: the first
    # category to claim a slug keeps it and a later one that romanises alike gets a suffix.
    # A store that already has categories was built with the old rule (a clash gave both
    # names a hash): the flag makes the next build record those live URLs before anything new.
    """
    CREATE TABLE category_slugs (
        category  TEXT PRIMARY KEY,
        slug      TEXT NOT NULL UNIQUE
    );
    INSERT INTO meta (key, value)
        SELECT 'category_slugs_legacy', '1'
        WHERE EXISTS (SELECT 1 FROM articles WHERE category != '')
    """,
    # 3: the send log keys readers by a keyed hash, never by the address (see _hash_send_log).
    lambda db: _hash_send_log(db),
    # 4: an editor's decisions per digest week (feedkit.editorial.decisions): approvals for
    # [digest] require_approval, and notes. A revoked approval or a cleared note stays as a row
    # (approved = 0, markdown = '') with the time of the change, so that merging an older
    # export never brings back what an editor took back.
    """
    CREATE TABLE digest_approvals (
        week        TEXT PRIMARY KEY,
        approved    INTEGER NOT NULL,
        changed_at  TEXT NOT NULL
    );
    CREATE TABLE digest_notes (
        week        TEXT PRIMARY KEY,
        markdown    TEXT NOT NULL,
        changed_at  TEXT NOT NULL
    );
    """,
    # 5: withdrawn articles, kept apart with the reason and the time (feedkit.store.withdrawn_table)
    WITHDRAWN_TABLE,
    # 6: the subscribers feedkit runs itself (columns: feedkit/store/subscribers_table.py).
    SUBSCRIBERS_MIGRATION,
    # 7: which run is sending to which reader, for several senders at once (feedkit.mail.claims)
    SEND_CLAIMS_TABLE,
    # 8: subscriber ids never reused and links bound to one subscription; counted bounce
    # reports; the web endpoint's outbox (feedkit.store.subscribers_table.migrate_8); each
    # article's URL key (feedkit.store.url_keys)
    migrate_8,
    # 9: readers of the list who asked to leave, by keyed hash (feedkit.store.unsubscribed_table)
    UNSUBSCRIBED_TABLE,
    # 10: each article's licence and its image's media type (feedkit.store.article_extras)
    EXTRAS_MIGRATION,
    # 11: what the digest archive knows of each week, the hours changed since a build looked
    # (feedkit.store.archive_table), and each department's count (feedkit.store.changes): a
    # build reads what a change touched, not every article
    ARCHIVE_MIGRATION + ";" + COUNTS_TABLE,
]

SCHEMA_VERSION = len(MIGRATIONS)
_INSERTED = ("id", "url", "title", "summary", "content_html", "published", "published_ts",
             "updated", "updated_ts", "author", "category", "tags", "image", "license",
             "image_type", "hash", "last_changed", "url_key", "first_seen")
_COLUMNS = ("id, url, title, summary, content_html, published, updated, author, category, "
            "tags, image, license, image_type, hash")


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    withheld: int = 0   # withdrawn articles the source still offers: not brought back

    def add(self, other: UpsertResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.withheld += other.withheld


@dataclass(frozen=True)
class StoredArticle:
    """An article plus what the store knows about it (its content hash)."""

    article: Article
    hash: str


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _row_to_article(row: sqlite3.Row | tuple) -> StoredArticle:
    (id_, url, title, summary, content, published, updated, author, category, tags, image,
     license_, image_type, hash_) = row
    return StoredArticle(
        Article(
            id=id_, url=url, title=title, summary=summary, content_html=content,
            published=datetime.fromisoformat(published), updated=datetime.fromisoformat(updated),
            author=author, category=category,
            tags=() if tags == "[]" else tuple(json.loads(tags)), image=image,
            license=license_, image_type=image_type,
        ),
        hash_,
    )


class Store:
    """The article store: a SQLite file (``target`` a path) or a PostgreSQL database
    (``target`` a ``postgresql://`` URL, each site in its own ``schema``); see
    :mod:`feedkit.store.backends`. Use as a context manager, or call :meth:`close`."""

    def __init__(self, target: str | Path, *, busy_timeout: float = 30.0, schema: str = ""):
        from feedkit.store.urls import is_url

        self.busy_timeout = busy_timeout
        if is_url(target):
            self._open_postgres(str(target), schema)
            return
        from feedkit.store.sqlite import open_sqlite

        self.dialect = "sqlite"
        self.path = Path(target)
        self.label = str(self.path)
        def initialise(db: sqlite3.Connection) -> None:
            self.db = db
            self._migrate()

        try:
            self.db = open_sqlite(self.path, busy_timeout, initialise)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(self.path, exc, "cannot open the article store") from None
        except OSError as exc:
            raise FeedkitError(f"{self.path}: cannot open the article store: "
                               f"{exc.strerror or exc}") from None

    def _open_postgres(self, url: str, schema: str) -> None:
        from feedkit.store.postgres import PgDatabase
        from feedkit.store.urls import pg_label

        self.dialect = "postgresql"
        self.label = pg_label(url, schema)
        self.path = Path(self.label)   # only ever shown in messages
        self.db = PgDatabase(url, schema, busy_timeout=self.busy_timeout, label=self.label)
        try:
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: all of it lands, or (on any exception) none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _user_version(self) -> int:
        if self.dialect == "sqlite":
            return self.db.execute("PRAGMA user_version").fetchone()[0]
        return self.db.user_version()

    def _migrate(self) -> None:
        version = self._user_version()
        self._check_version(version)
        if version >= SCHEMA_VERSION:
            return
        # One transaction for the whole upgrade: a step that refuses (the send-log hashing
        # without its key) leaves the store exactly as it was, at its old version. The version
        # is read again inside the write transaction: two processes opening an older store at
        # once must not both run the same step ("table already exists").
        with self.transaction():
            version = self._user_version()
            self._check_version(version)
            while version < SCHEMA_VERSION:
                migration = MIGRATIONS[version]
                if callable(migration):
                    migration(self.db)
                else:
                    for statement in migration.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                version += 1
                if self.dialect == "sqlite":
                    self.db.execute(f"PRAGMA user_version = {version}")
                else:
                    self.db.set_user_version(version)

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise FeedkitError(
                f"{self.label}: store schema version {version} is newer than this feedkit "
                f"understands ({SCHEMA_VERSION}); upgrade feedkit"
            )

    @property
    def schema_version(self) -> int:
        return self._user_version()

    # -- writing -----------------------------------------------------------------------------

    def upsert(self, articles: Sequence[Article]) -> UpsertResult:
        """Insert new articles and rewrite changed ones; leave identical ones untouched.

        Call inside :meth:`transaction` for one commit per import. An updated article keeps
        its ``first_seen`` time. A withdrawn article (same id or URL, see
        :mod:`feedkit.editorial.withdrawals`) is left out and counted as ``withheld``.
        """
        if not self.db.in_transaction:   # the archive's notes land with the articles
            with self.transaction():
                return self.upsert(articles)
        result = UpsertResult()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for start in range(0, len(articles), 500):
            batch = articles[start:start + 500]
            blocked = withdrawn_among(self.db, batch)
            if blocked:
                result.withheld += sum(1 for a in batch if a.id in blocked)
                batch = [a for a in batch if a.id not in blocked]
            if not batch:
                continue   # all withdrawn (and `IN ()` is an error on PostgreSQL)
            spelt = adopt_spellings(self.db, batch)   # another spelling of a stored URL
            result.unchanged += len(batch) - len(spelt)
            batch = spelt
            known = {a.id: a.content_hash() for a in batch}
            marks = ",".join("?" * len(known))
            existing = {i: (h, (c, ts)) for i, h, c, ts in self.db.execute(
                "SELECT id, hash, category, published_ts FROM articles "
                f"WHERE id IN ({marks})", list(known))}
            inserts, updates, removed, added = [], [], [], []
            for a in batch:
                h = known[a.id]
                old, was = existing.get(a.id, (None, None))
                if old == h:
                    result.unchanged += 1
                    continue
                added.append((a.category, _ts(a.published)))
                if was is not None:
                    removed.append(was)
                row = (a.url, a.title, a.summary, a.content_html, a.published.isoformat(),
                       _ts(a.published), a.updated.isoformat(), _ts(a.updated), a.author,
                       a.category, json.dumps(list(a.tags), ensure_ascii=False) if a.tags
                       else "[]", a.image, a.license, a.image_type, h, now, url_key(a.url))
                if old is None:
                    inserts.append((a.id, *row, now))
                    existing[a.id] = (h, added[-1])
                else:
                    updates.append((*row, a.id))
            if inserts and self.dialect == "postgresql":   # COPY: an import 1.6x quicker
                self.db.copy_rows("articles", _INSERTED, inserts)
            elif inserts:
                self.db.executemany(f"INSERT INTO articles ({', '.join(_INSERTED)}) VALUES "
                                    f"({','.join('?' * len(_INSERTED))})", inserts)
            if updates:
                self.db.executemany(
                    "UPDATE articles SET url=?, title=?, summary=?, content_html=?, published=?, "
                    "published_ts=?, updated=?, updated_ts=?, author=?, category=?, tags=?, "
                    "image=?, license=?, image_type=?, hash=?, last_changed=?, url_key=? "
                    "WHERE id=?", updates)
            articles_changed(self.db, removed, added)   # the counts, the archive's hours
            result.inserted += len(inserts)
            result.updated += len(updates)
        if result.inserted or result.updated:
            self._bump_generation()
        return result

    def _bump_generation(self) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES ('generation', '1') "
                        "ON CONFLICT (key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1")

    @property
    def generation(self) -> int:
        """A counter that moves whenever any article is inserted or changed: lets a build skip
        work that depends on the whole store (the digest archive) without reading it."""
        value = self.get_meta("generation")
        return int(value) if value else 0

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- reading -----------------------------------------------------------------------------

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM articles").fetchone()[0]

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None

    def get(self, article_id: str) -> Article | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM articles WHERE id = ?",
                              (article_id,)).fetchone()
        return _row_to_article(row).article if row else None

    _filter = staticmethod(article_filter)

    def latest(self, limit: int, category: str | Sequence[str] | None = None,
               until: int | None = None, exclude: Sequence[str] = ()) -> list[StoredArticle]:
        """Newest first (ties broken by id, so the order is stable); ``until`` leaves out what
        is published after that Unix second (see :mod:`feedkit.editorial.publication`)."""
        where, params = self._filter(category, until, exclude)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM articles{where} ORDER BY published_ts DESC, id DESC "
            "LIMIT ?", (*params, limit))
        return [_row_to_article(r) for r in rows]

    def latest_keys(self, limit: int, category: str | Sequence[str] | None = None,
                    until: int | None = None, exclude: Sequence[str] = ()
                    ) -> list[tuple[str, str]]:
        """``(id, hash)`` of what :meth:`latest` would return, read from the indexes alone
        (plus the hash): enough to tell whether a feed needs rendering at all."""
        where, params = self._filter(category, until, exclude)
        rows = self.db.execute(
            f"SELECT id, hash FROM articles{where} ORDER BY published_ts DESC, id DESC LIMIT ?",
            (*params, limit))
        return rows.fetchall()

    def held_back(self, until: int | None) -> list[tuple[str, int]]:
        """``(id, published_ts)`` of the articles published after ``until`` (none when None):
        part of a build's fingerprint, so a build re-renders once one's time has come."""
        if until is None:
            return []
        return self.db.execute(
            "SELECT id, published_ts FROM articles WHERE published_ts > ? "
            "ORDER BY published_ts, id", (until,)).fetchall()

    def published_between(self, start: datetime, end: datetime, *, bodies: bool = True
                          ) -> list[StoredArticle]:
        """Articles published in ``[start, end)``, newest first; ``bodies=False`` leaves
        ``content_html`` empty (a digest shows none: a week reads a tenth of the bytes)."""
        columns = _COLUMNS if bodies else _COLUMNS.replace("content_html", "''")
        rows = self.db.execute(
            f"SELECT {columns} FROM articles WHERE published_ts >= ? AND published_ts < ? "
            "ORDER BY published_ts DESC, id DESC", (_ts(start), _ts(end)))
        return [_row_to_article(r) for r in rows]

    def categories(self, until: int | None = None) -> list[CategoryCount]:
        """Non-empty categories, largest first, then by name (counting only what is published
        by ``until`` when given), from the counts the writers keep (feedkit.store.changes)."""
        return categories(self.db, until)

    def iter_all(self) -> Iterator[Article]:
        """Every article ordered by id: the stable order export relies on."""
        for row in self.stream(f"SELECT {_COLUMNS} FROM articles ORDER BY id"):
            yield _row_to_article(row).article

    def stream(self, sql: str, params: Sequence = ()) -> Iterable[tuple]:
        """The rows of a read too large to hold (an export), as they come: SQLite's cursor is
        lazy already; on PostgreSQL a server-side cursor (see PgDatabase.stream)."""
        if self.dialect == "sqlite":
            return self.db.execute(sql, params)
        return self.db.stream(sql, params)

    # -- category slugs (feed URLs that never move) --------------------------------------------

    def category_slugs(self, names: Sequence[str], overrides: dict[str, str] | None = None
                       ) -> dict[str, str]:
        """A slug for every name in ``names`` (in claiming order: who came first), remembering
        new assignments; see :func:`feedkit.text.slugs.assign_slugs`. Commits its own writes."""
        from feedkit.text.slugs import assign_slugs, category_slugs

        known = dict(self.db.execute("SELECT category, slug FROM category_slugs"))
        seeded: dict[str, str] = {}
        legacy_flag = self.get_meta("category_slugs_legacy")
        if legacy_flag == "1":
            # The URLs an older feedkit published for the categories it knew: keep them.
            legacy = category_slugs(names, overrides)
            seeded = {n: legacy[n] for n in names
                      if n not in known and n not in (overrides or {})}
            known.update(seeded)
        result, changed = assign_slugs(names, overrides or {}, known)
        write = {**{n: s for n, s in seeded.items() if result.get(n) == s}, **changed}
        if write or legacy_flag is not None:
            with self.transaction():
                self.db.execute("DELETE FROM meta WHERE key = 'category_slugs_legacy'")
                for name, slug in write.items():
                    self.db.execute("DELETE FROM category_slugs WHERE slug = ? AND category != ?",
                                    (slug, name))
                    self.db.execute(
                        "INSERT INTO category_slugs (category, slug) VALUES (?, ?) "
                        "ON CONFLICT (category) DO UPDATE SET slug = excluded.slug",
                        (name, slug))
        return result

    # -- build bookkeeping (lets a no-op build skip generating anything) ----------------------

    def output_fingerprints(self) -> dict[str, tuple[str, str]]:
        """path -> (fingerprint of the inputs, "size:mtime_ns" of the file as written)."""
        return {p: (f, s) for p, f, s in self.db.execute(
            "SELECT path, fingerprint, stamp FROM outputs")}

    def record_outputs(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self.db.executemany(
            "INSERT INTO outputs (path, fingerprint, stamp) VALUES (?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "stamp = excluded.stamp", list(rows))

    # -- digest: the send log -------------------------------------------------------------

    def send_log(self, week: str) -> dict[str, SendRecord]:
        """What the send log knows about one digest week, by recipient key (the keyed hash of
        :func:`feedkit.privacy.recipient_key`: the log never holds an address)."""
        rows = self.db.execute(
            "SELECT recipient, message_id, status, attempts, error, updated_at FROM send_log "
            "WHERE week = ?", (week,))
        return {r[0]: SendRecord(week, *r) for r in rows}

    def record_send(self, week: str, recipient: str, message_id: str, status: str,
                    error: str = "", *, attempt: bool = False) -> None:
        """Upsert one recipient's state; ``attempt`` counts one more try. Commits at once (when
        not inside :meth:`transaction`), so a run killed right after knows what it did."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.db.execute(
            "INSERT INTO send_log (week, recipient, message_id, status, attempts, error, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (week, recipient) DO UPDATE SET message_id = excluded.message_id, "
            "status = excluded.status, attempts = send_log.attempts + ?, "
            "error = excluded.error, updated_at = excluded.updated_at",
            (week, recipient, message_id, status, int(attempt), error, now, int(attempt)))


    def sent_since(self, since: datetime) -> int:
        """Messages the send log marked sent at or after ``since`` (any week): what a daily
        limit of the relay has already used."""
        stamp = since.astimezone(UTC).isoformat(timespec="seconds")
        return self.db.execute("SELECT count(*) FROM send_log WHERE status = 'sent' AND "
                               "updated_at >= ?", (stamp,)).fetchone()[0]


def _hash_send_log(db: sqlite3.Connection) -> None:
    """Replace every address in clear in the send log (written by feedkit before it hashed
    them) by its keyed hash, and scrub it from the error text. Needs ``$FEEDKIT_SECRET`` only
    when there is such a row: a store that never sent migrates without it."""
    from feedkit.privacy import KEY_PREFIX, is_key, recipient_key, scrub, send_secret

    rows = [r for r in db.execute(
        "SELECT week, recipient, message_id, status, attempts, error, updated_at FROM send_log")
        if not is_key(r[1])]
    if not rows:
        return
    try:
        secret = send_secret()
    except FeedkitError as exc:
        raise type(exc)(f"the store's send log holds addresses in clear (written by an older "
                        f"feedkit) and is upgraded to keyed hashes: {exc}") from None
    db.execute(f"DELETE FROM send_log WHERE recipient NOT LIKE '{KEY_PREFIX}%'")
    merge_send_log(db, [(week, recipient_key(address, secret), mid, status, attempts,
                         scrub(error, address), at)
                        for week, address, mid, status, attempts, error, at in rows])


def merge_send_log(db: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """Insert ``(week, recipient, message_id, status, attempts, error, updated_at)`` rows; a
    reader already marked ``sent`` stays sent (two spellings of one address, or an import
    over a store that has moved on, never downgrade it)."""
    db.executemany(
        "INSERT INTO send_log (week, recipient, message_id, status, attempts, error, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (week, recipient) DO UPDATE SET message_id = excluded.message_id, "
        "status = excluded.status, attempts = excluded.attempts, error = excluded.error, "
        "updated_at = excluded.updated_at WHERE send_log.status != 'sent'", rows)


@dataclass(frozen=True)
class SendRecord:
    """One row of the digest send log."""

    week: str
    recipient: str
    message_id: str
    # sending (handed to the server, outcome unknown), sent, deferred, failed; skipped (a
    # subscriber who left or bounced after the run started: not sent to)
    status: str
    attempts: int
    error: str
    updated_at: str
