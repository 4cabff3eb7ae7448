"""Withdrawn articles: what ``feedkit withdraw`` and ``feedkit restore`` do to the store.

A city takes an article back (a correction, a legal request) and expects it gone everywhere it
publishes: every feed, the index, the digest archive, and every digest not yet sent. The article
row moves from ``articles`` to the ``withdrawn`` table (store migration 4) with the editor's
reason and the time. Moving it, rather than flagging it, means no query that builds a feed, a
page or a digest can forget to leave it out, now or in code written later.

It stays known: :meth:`feedkit.store.articles.Store.upsert` refuses an incoming article with a
withdrawn id or URL (the source page often lingers, and the next ``update`` would publish it
again), export writes it with its ``withdrawn`` record so a store rebuilt from the export (the CI
workflow) keeps the withdrawal, and ``restore`` moves it back exactly as it was.

Feeds get no tombstone: RSS has none, Atom's only one (RFC 6721 ``at:deleted-entry``) is not
read by the common readers, and jekyll-feed and Hugo simply regenerate the feed without a
deleted post. The entry drops out of the next build; readers that cached it keep their copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from feedkit.errors import FeedkitError, UsageError
from feedkit.model import Article
from feedkit.store.articles import Store, _row_to_article
from feedkit.store.changes import articles_changed, moving
from feedkit.text.urlkey import url_key

REASON_LIMIT = 500
_ROW = ("id, url, title, summary, content_html, published, published_ts, updated, updated_ts, "
        "author, category, tags, image, license, image_type, hash, first_seen, last_changed")
_ARTICLE = ("id, url, title, summary, content_html, published, updated, author, category, "
            "tags, image, license, image_type, hash")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Withdrawal:
    """One withdrawn article, as ``stats`` and the commands show it."""

    id: str
    url: str
    title: str
    published: str
    category: str
    reason: str
    at: str   # ISO 8601 UTC, seconds


def clean_reason(text: str) -> str:
    """One line of plain text: the reason shows in ``stats`` and lands in the committed export,
    so control characters and line breaks become single spaces."""
    reason = _SPACE.sub(" ", "".join(ch if ch.isprintable() else " " for ch in text)).strip()
    if not reason:
        raise UsageError("--reason: say why the article is withdrawn (it is kept with it)")
    if len(reason) > REASON_LIMIT:
        raise UsageError(f"--reason: {len(reason)} characters; at most {REASON_LIMIT}")
    return reason


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _describe(row: tuple) -> Withdrawal:
    id_, url, title, published, category, reason, at = row
    return Withdrawal(id_, url, title, published, category, reason, at)


_LIST = "SELECT id, url, title, published, category, reason, withdrawn_at FROM withdrawn"


def _find_withdrawn(store: Store, key: str) -> Withdrawal | None:
    rows = store.db.execute(f"{_LIST} WHERE id = ?", (key,)).fetchall() or \
        store.db.execute(f"{_LIST} WHERE url = ? ORDER BY id", (key,)).fetchall()
    if not rows:   # the URL in another spelling (the withdrawn are few: keys made here)
        wanted = url_key(key)
        rows = [r for r in store.db.execute(f"{_LIST} ORDER BY id") if url_key(r[1]) == wanted]
    if len(rows) > 1:
        raise UsageError(f"{key}: {len(rows)} withdrawn articles have this URL; give one of "
                         f"their ids: {', '.join(r[0] for r in rows)}")
    return _describe(rows[0]) if rows else None


def _find_live(store: Store, key: str) -> str | None:
    """The id of the live article ``key`` names: its id, else its URL as given, else its URL
    in any spelling (:func:`feedkit.text.urlkey.url_key`: ``http://``, ``#x``, ``utm_*``)."""
    if store.db.execute("SELECT 1 FROM articles WHERE id = ?", (key,)).fetchone():
        return key
    ids = [r[0] for r in store.db.execute("SELECT id FROM articles WHERE url = ? ORDER BY id",
                                          (key,))] or \
        [r[0] for r in store.db.execute("SELECT id FROM articles WHERE url_key = ? ORDER BY id",
                                        (url_key(key),))]
    if len(ids) > 1:
        raise UsageError(f"{key}: {len(ids)} articles have this URL; give one of their ids: "
                         f"{', '.join(ids)}")
    return ids[0] if ids else None


def withdraw(store: Store, key: str, reason: str, now: datetime | None = None
             ) -> tuple[Withdrawal, bool]:
    """Withdraw the article whose id or URL is ``key``; ``(withdrawal, True)``, or
    ``(the earlier withdrawal, False)`` when it already was (its reason is kept: the first
    reason is the one on record). Raises :class:`UsageError` for an unknown key."""
    reason = clean_reason(reason)
    article_id = _find_live(store, key)
    if article_id is None:
        earlier = _find_withdrawn(store, key)
        if earlier is not None:
            return earlier, False
        raise UsageError(f"{key}: no article with this id or URL in the store "
                         "(see 'feedkit export' for the ids)")
    at = stamp(now)
    with store.transaction():
        gone = moving(store.db, "articles", article_id)
        store.db.execute(f"INSERT INTO withdrawn ({_ROW}, reason, withdrawn_at) "
                         f"SELECT {_ROW}, ?, ? FROM articles WHERE id = ?",
                         (reason, at, article_id))
        store.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        articles_changed(store.db, [gone] if gone else [], [])
        store._bump_generation()
    found = _find_withdrawn(store, article_id)
    assert found is not None
    return found, True


def restore(store: Store, key: str) -> Withdrawal:
    """Put a withdrawn article back as it was (the next build publishes it again)."""
    found = _find_withdrawn(store, key)
    if found is None:
        if _find_live(store, key) is not None:
            raise UsageError(f"{key}: this article is not withdrawn")
        raise UsageError(f"{key}: no withdrawn article with this id or URL")
    with store.transaction():
        back = moving(store.db, "withdrawn", found.id)
        put = store.db.execute(f"INSERT INTO articles ({_ROW}, url_key) "
                               f"SELECT {_ROW}, ? FROM withdrawn WHERE id = ? "
                               "ON CONFLICT (id) DO NOTHING",
                               (url_key(found.url), found.id)).rowcount
        if put and back:
            articles_changed(store.db, [], [back])
        store.db.execute("DELETE FROM withdrawn WHERE id = ?", (found.id,))
        store._bump_generation()
    return found


def listing(store: Store) -> list[Withdrawal]:
    """Every withdrawal, the latest first."""
    return [_describe(r) for r in store.db.execute(
        f"{_LIST} ORDER BY withdrawn_at DESC, id")]


def withdrawn_only_slugs(store: Store) -> set[str]:
    """Feed slugs of the categories that have withdrawn articles and no live one left."""
    return {slug for (slug,) in store.db.execute(
        "SELECT slug FROM category_slugs WHERE category IN (SELECT category FROM withdrawn) "
        "AND category NOT IN (SELECT category FROM articles)")}


def count(store: Store) -> int:
    return store.db.execute("SELECT count(*) FROM withdrawn").fetchone()[0]


def put_withdrawn(store: Store, article: Article, reason: str, at: str) -> None:
    """Record ``article`` as withdrawn (``import`` of an exported withdrawal): replaces a live
    copy or an earlier withdrawal of the same id. Call inside a transaction."""
    now = stamp()
    published, updated = article.published, article.updated
    gone = moving(store.db, "articles", article.id)
    store.db.execute("DELETE FROM articles WHERE id = ?", (article.id,))
    if gone:
        articles_changed(store.db, [gone], [])
    store.db.execute(
        f"INSERT INTO withdrawn ({_ROW}, reason, withdrawn_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in (*_ROW.split(", ")[1:], "reason",
                                                      "withdrawn_at")),
        (article.id, article.url, article.title, article.summary, article.content_html,
         published.isoformat(), int(published.timestamp()), updated.isoformat(),
         int(updated.timestamp()), article.author, article.category,
         json.dumps(list(article.tags), ensure_ascii=False), article.image, article.license,
         article.image_type, article.content_hash(), now, now, reason, at))
    store._bump_generation()


def read_mark(value: object, where: str) -> tuple[str, str]:
    """The ``withdrawn`` field of an import record: ``{"at": ISO time, "reason": text}``."""
    if not isinstance(value, dict) or set(value) != {"at", "reason"}:
        raise FeedkitError(f"{where}: withdrawn must be an object with exactly \"at\" and "
                           "\"reason\"")
    at, reason = value["at"], value["reason"]
    if not isinstance(at, str) or not isinstance(reason, str):
        raise FeedkitError(f"{where}: withdrawn \"at\" and \"reason\" must be strings")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise FeedkitError(f"{where}: withdrawn \"at\" is not an ISO 8601 time: {at!r}") from None
    if moment.tzinfo is None:
        raise FeedkitError(f"{where}: withdrawn \"at\" needs a UTC offset: {at!r}")
    try:
        return at, clean_reason(reason)
    except UsageError as exc:
        raise FeedkitError(f"{where}: withdrawn reason: {str(exc).split(': ', 1)[1]}") from None


def iter_export(store: Store) -> Iterator[tuple[Article, tuple[str, str] | None]]:
    """Every article, live or withdrawn, ordered by id (export's stable order), with
    ``(at, reason)`` for the withdrawn ones."""
    rows = store.stream(
        f"SELECT {_ARTICLE}, NULL, NULL FROM articles UNION ALL "
        f"SELECT {_ARTICLE}, withdrawn_at, reason FROM withdrawn ORDER BY id")
    for row in rows:
        article = _row_to_article(row[:14]).article
        yield article, (None if row[14] is None else (row[14], row[15]))
