"""What every write to ``articles`` keeps up to date besides the rows: the departments' counts,
and the hours the digest archive must look at again (store migration 11).

A build lists the departments with how many articles each has, its first and last (the feeds'
order and their slugs' claims). Counting them is a scan of the whole department index: 2 s at a
million articles, for a build that should take one (issue 26). So ``category_counts`` keeps
them, changed by the writers themselves, in the same transaction as the rows: the upsert,
withdraw, restore and an imported withdrawal all report here what they removed and added
(:func:`articles_changed`). Counts are arithmetic; a first or last date that a removal may have
taken away is looked up again (two index seeks). The hours go to the archive's notes
(:func:`feedkit.store.archive_table.note_changes`).

:func:`categories` reads the counts as of a publication cutoff: the articles held back for a
later date (a few, read through the date index) are taken off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedkit.store.archive_table import note_changes

TABLE = """
CREATE TABLE category_counts (
    category  TEXT PRIMARY KEY,
    articles  INTEGER NOT NULL,
    first_ts  INTEGER NOT NULL,
    last_ts   INTEGER NOT NULL
);
INSERT INTO category_counts (category, articles, first_ts, last_ts)
    SELECT category, count(*), min(published_ts), max(published_ts) FROM articles
    GROUP BY category
"""
Change = tuple[str, int]   # (category, published_ts) of an article removed or added


@dataclass(frozen=True)
class CategoryCount:
    name: str
    count: int
    first: datetime
    last: datetime


def articles_changed(db, removed: Sequence[Change], added: Sequence[Change]) -> None:
    """Account for articles removed and added (an update is both: its old category and date,
    its new ones). Call inside the transaction that wrote them, after the writes."""
    # every hour an article left or joined, edits in place included (its week shows it)
    note_changes(db, [ts for _, ts in removed] + [ts for _, ts in added])
    kept = Counter(removed) & Counter(added)   # edits that kept category and date
    if kept:
        removed = list((Counter(removed) - kept).elements())
        added = list((Counter(added) - kept).elements())
    if not removed and not added:
        return
    delta: dict[str, int] = {}
    lowest: dict[str, int] = {}
    highest: dict[str, int] = {}
    for category, ts in added:
        delta[category] = delta.get(category, 0) + 1
        lowest[category] = min(lowest.get(category, ts), ts)
        highest[category] = max(highest.get(category, ts), ts)
    taken: dict[str, set[int]] = {}
    for category, ts in removed:
        delta[category] = delta.get(category, 0) - 1
        taken.setdefault(category, set()).add(ts)
    names = sorted(delta)
    marks = ",".join("?" * len(names))
    current = {c: (n, f, last) for c, n, f, last in db.execute(
        "SELECT category, articles, first_ts, last_ts FROM category_counts "
        f"WHERE category IN ({marks})", names)}
    writes, gone, again = [], [], []
    for category in names:
        n, first, last = current.get(category, (0, None, None))
        n += delta[category]
        if n <= 0:
            gone.append((category,))
            continue
        if category in lowest:
            first = lowest[category] if first is None else min(first, lowest[category])
            last = highest[category] if last is None else max(last, highest[category])
        writes.append((category, n, first, last))
        if first in taken.get(category, ()) or last in taken.get(category, ()):
            again.append(category)
    if writes:
        db.executemany(
            "INSERT INTO category_counts (category, articles, first_ts, last_ts) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (category) DO UPDATE SET "
            "articles = excluded.articles, first_ts = excluded.first_ts, "
            "last_ts = excluded.last_ts", writes)
    if gone:
        db.executemany("DELETE FROM category_counts WHERE category = ?", gone)
    for category in again:   # a removal took the first or last: ask the index
        first, last = db.execute("SELECT min(published_ts), max(published_ts) FROM articles "
                                 "WHERE category = ?", (category,)).fetchone()
        db.execute("UPDATE category_counts SET first_ts = ?, last_ts = ? WHERE category = ?",
                   (first, last, category))


def moving(db, table: str, article_id: str) -> Change | None:
    """``(category, published_ts)`` of the article ``article_id`` in ``table`` (``articles``
    or ``withdrawn``), read before it moves to the other."""
    row = db.execute(f"SELECT category, published_ts FROM {table} WHERE id = ?",
                     (article_id,)).fetchone()
    return (row[0], row[1]) if row else None


def categories(db, until: int | None = None) -> list[CategoryCount]:
    """Non-empty categories, largest first, then by name, counting only what is published by
    ``until`` when given: the kept counts, less the articles held back for later."""
    counts = {c: [n, first, last] for c, n, first, last in db.execute(
        "SELECT category, articles, first_ts, last_ts FROM category_counts "
        "WHERE category != ''")}
    if until is not None:
        # Counted here, not by GROUP BY: SQLite would group along the department index, every
        # article of the store (0.15 s at 1M), where this reads the few held back, by date.
        held = Counter(c for (c,) in db.execute(
            "SELECT category FROM articles WHERE published_ts > ?", (until,)) if c)
        for category, n in sorted(held.items()):
            kept = counts.get(category)
            if kept is None:
                continue
            kept[0] -= n
            if kept[0] <= 0:
                del counts[category]
            elif kept[2] > until:   # its last article is held back: the last one shown
                kept[2] = db.execute(
                    "SELECT max(published_ts) FROM articles WHERE category = ? AND "
                    "published_ts <= ?", (category, until)).fetchone()[0]
    order = sorted(counts.items(), key=lambda item: (-item[1][0], item[0].encode("utf-8")))
    return [CategoryCount(name, n, datetime.fromtimestamp(first, UTC),
                          datetime.fromtimestamp(last, UTC))
            for name, (n, first, last) in order]

