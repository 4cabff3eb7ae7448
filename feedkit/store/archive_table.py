"""The digest archive's memory of the store (store migration 11): what each week holds, and the
hours of the articles changed since the build last looked.

A build with the digest archive needs, for every week, how many articles it has, a digest of
their ids and content hashes (does the week's page need rendering?) and its newest headlines
(the archive index). Reading that from every article costs a million rows at a province's
scale (issue 26), so the build keeps it in ``archive_weeks``, and every write to ``articles``
(:meth:`~feedkit.store.articles.Store.upsert`, withdraw, restore, through
:func:`feedkit.store.changes.articles_changed`) notes here, in the same transaction, the hour of
each article it inserts, changes or removes (``changed_hours``). The
next build reads only the weeks those hours fall in, and empties ``changed_hours``.

The weeks depend on the site's timezone and on which departments the digest leaves out, so
they are kept for one configuration (meta :data:`KEY`, a fingerprint the build gives); a build
under another recounts them all. Until a build has counted them, nothing is noted: an import
into a store that no archive reads pays nothing. Hours, not seconds: a week boundary in any
timezone falls between two hours' worth of instants at most once, and a busy hour is one row.

What is counted here knows no weeks (that is :mod:`feedkit.site.weeks`): this module holds the
SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

MIGRATION = """
CREATE TABLE archive_weeks (
    week       TEXT PRIMARY KEY,
    articles   INTEGER NOT NULL,
    digest     TEXT NOT NULL,
    headlines  TEXT NOT NULL,
    item       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE changed_hours (
    hour  INTEGER PRIMARY KEY
)
"""
KEY = "archive_weeks"   # meta: the fingerprint of the configuration the weeks were counted for
HOUR = 3600
# What a week's summary is made of: no article body (a week of a million-article store is read
# in milliseconds from these).
_KEYS = "id, hash, published_ts, title, category"


def note_changes(db, timestamps: Iterable[int]) -> None:
    """Remember the hours of ``timestamps`` (``published_ts`` of articles inserted, changed or
    removed, before and after) for the next build. Call inside the transaction that writes
    them; does nothing while no build keeps the weeks."""
    hours = sorted({ts // HOUR for ts in timestamps})
    if not hours or db.execute("SELECT 1 FROM meta WHERE key = ?", (KEY,)).fetchone() is None:
        return
    db.executemany("INSERT INTO changed_hours (hour) VALUES (?) ON CONFLICT (hour) DO NOTHING",
                   [(h,) for h in hours])


def kept_for(store) -> str | None:
    """The fingerprint the kept weeks were counted for (None: none are kept)."""
    return store.get_meta(KEY)


def changed_hours(store) -> list[int]:
    return [h for (h,) in store.db.execute("SELECT hour FROM changed_hours ORDER BY hour")]


def every_article(store, until: int | None = None
                  ) -> Iterable[tuple[str, str, int, str, str]]:
    """``(id, hash, published_ts, title, category)`` of every article (published by ``until``
    when given), in storage order: a sequential read, streamed, never held."""
    if until is None:
        return store.stream(f"SELECT {_KEYS} FROM articles")
    return store.stream(f"SELECT {_KEYS} FROM articles WHERE published_ts <= ?", (until,))


def articles_between(store, start: int, end: int) -> Iterator[tuple[str, str, int, str, str]]:
    """The same for the articles published in ``[start, end)``."""
    return store.db.execute(f"SELECT {_KEYS} FROM articles WHERE published_ts >= ? "
                            "AND published_ts < ?", (start, end))


def weeks(store) -> list[tuple[str, int, str, str]]:
    """``(week, articles, digest, headlines)`` of every kept week."""
    return store.db.execute(
        "SELECT week, articles, digest, headlines FROM archive_weeks").fetchall()


def item(store, week: str, digest: str) -> str:
    """The digest-feed item kept for ``week`` as it is (``digest``), or "" (none kept yet: a
    million-article store's week lists 2,000 headlines, so items are read one by one, and only
    for the feed)."""
    row = store.db.execute("SELECT item FROM archive_weeks WHERE week = ? AND digest = ?",
                           (week, digest)).fetchone()
    return row[0] if row else ""


def begin_count(store, key: str) -> str:
    """Start counting every week for ``key``: from now on the writers note the hours they
    change (the count reads outside any transaction, writers going on), and the kept weeks are
    no one's until :func:`replace_all`. Returns this count's token. Call inside a
    transaction."""
    import os

    token = f"counting {key} {os.urandom(8).hex()}"
    store.set_meta(KEY, token)
    store.db.execute("DELETE FROM changed_hours")
    return token


def replace_all(store, key: str, rows: Sequence[tuple[str, int, str, str]]) -> None:
    """Keep ``(week, articles, digest, headlines)`` rows, counted for ``key``, instead of
    whatever was kept (the changed hours stay: they came after the count began). Call inside a
    transaction."""
    store.db.execute("DELETE FROM archive_weeks")
    _insert(store, rows)
    store.set_meta(KEY, key)


def update(store, rows: Sequence[tuple[str, int, str, str]], gone: Iterable[str]) -> None:
    """Replace the weeks of ``rows``, drop the weeks ``gone`` and forget the changed hours.
    A week whose digest is unchanged keeps its feed item. Call inside a transaction."""
    gone = list(gone)
    if gone:
        store.db.executemany("DELETE FROM archive_weeks WHERE week = ?", [(w,) for w in gone])
    old = {w: d for w, d in store.db.execute("SELECT week, digest FROM archive_weeks")}
    fresh = [r for r in rows if old.get(r[0]) != r[2]]
    if fresh:
        store.db.executemany("DELETE FROM archive_weeks WHERE week = ?", [(r[0],) for r in fresh])
        _insert(store, fresh)
    store.db.execute("DELETE FROM changed_hours")


def _insert(store, rows: Sequence[tuple[str, int, str, str]]) -> None:
    if rows:
        store.db.executemany("INSERT INTO archive_weeks (week, articles, digest, headlines) "
                             "VALUES (?, ?, ?, ?)", list(rows))


def keep_item(store, week: str, digest: str, item: str) -> None:
    """Keep a week's digest-feed item, unless the week changed meanwhile (another digest)."""
    store.db.execute("UPDATE archive_weeks SET item = ? WHERE week = ? AND digest = ?",
                     (item, week, digest))
