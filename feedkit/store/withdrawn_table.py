"""The ``withdrawn`` table (store migration 4) and the one query the store's upsert needs.

Kept out of :mod:`feedkit.store.articles` so the store imports it without a cycle
(:mod:`feedkit.editorial.withdrawals` builds the commands on both). Withdrawn articles are moved
out of ``articles`` with the editor's reason and the time, so no feed, page or digest query can show
them, and kept here so ``update`` and ``import`` can refuse to bring them back and ``restore``
can put them back as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from feedkit.model import Article

# The same columns as ``articles`` (migration 1), plus why and when.
WITHDRAWN_TABLE = """
CREATE TABLE withdrawn (
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
    last_changed  TEXT NOT NULL,
    reason        TEXT NOT NULL,
    withdrawn_at  TEXT NOT NULL
);
CREATE INDEX withdrawn_url ON withdrawn (url)
"""


def withdrawn_among(db: sqlite3.Connection, batch: Sequence[Article]) -> set[str]:
    """Ids of the articles in ``batch`` that were withdrawn, matched by id or by URL (a source
    that re-issues a page under a new id still points at the same address), the URL in any
    spelling (:func:`feedkit.text.urlkey.url_key`: ``http://``, ``#x``, ``utm_*``, ...). The
    withdrawn are few: their keys are computed here, not stored."""
    from feedkit.text.urlkey import url_key

    if not batch or db.execute("SELECT 1 FROM withdrawn LIMIT 1").fetchone() is None:
        return set()
    ids, keys = set(), set()
    for id_, url in db.execute("SELECT id, url FROM withdrawn"):
        ids.add(id_)
        keys.add(url_key(url))
    return {a.id for a in batch if a.id in ids or url_key(a.url) in keys}
