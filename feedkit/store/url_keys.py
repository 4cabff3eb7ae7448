"""Articles match on one key per address (:func:`feedkit.text.urlkey.url_key`): the column that
holds it (store migration 8) and the lookup :meth:`feedkit.store.articles.Store.upsert` makes.

An article known by its URL (no id of its own: its id *is* its URL) that comes back under
another spelling of that URL (``http://`` for ``https://``, ``#top``, ``?utm_source=...``) is the
article already stored, not a new one: it keeps the stored id (the feeds' GUID) and URL, and
only its content is compared. Articles with an id of their own are matched by that id alone: a
source may link several of its items to one page, and they must not be merged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from feedkit.model import Article
from feedkit.text.urlkey import url_key

COLUMN = "ALTER TABLE articles ADD COLUMN url_key TEXT NOT NULL DEFAULT ''"
INDEX = "CREATE INDEX articles_url_key ON articles (url_key)"


def add_url_keys(db: sqlite3.Connection) -> None:
    """Migration 8's article step: the column, every stored article's key, the index."""
    db.execute(COLUMN)
    rows = db.execute("SELECT id, url FROM articles").fetchall()
    db.executemany("UPDATE articles SET url_key = ? WHERE id = ?",
                   [(url_key(url), id_) for id_, url in rows])
    db.execute(INDEX)


def adopt_spellings(db: sqlite3.Connection, batch: Sequence[Article]) -> list[Article]:
    """``batch`` with each article known by its URL that the store holds under another
    spelling of that URL given the stored id and URL (see the module docstring); a second
    spelling within the batch is the first one and is left out (the first one wins, as for
    a repeated id in one import)."""
    keys = {a.id: url_key(a.url) for a in batch if a.id == a.url}
    if not keys:
        return list(batch)
    wanted = sorted(set(keys.values()))
    held: dict[str, list[str]] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        for key, id_ in db.execute(
                f"SELECT url_key, id FROM articles WHERE url_key IN ({','.join('?' * len(part))})"
                " AND id = url ORDER BY id", part):
            held.setdefault(key, []).append(id_)
    out, seen = [], set()
    for article in batch:
        key = keys.get(article.id)
        if key is not None:
            known = held.setdefault(key, [])
            if known and article.id not in known:
                article = replace(article, id=known[0], url=known[0])
            elif not known:
                known.append(article.id)
        if article.id not in seen:
            seen.add(article.id)
            out.append(article)
    return out
