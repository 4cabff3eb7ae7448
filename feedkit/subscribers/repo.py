"""Subscribers in the store: plain functions over an open :class:`feedkit.store.articles.Store`.

The table (:mod:`feedkit.store.subscribers_table`, a migration in :mod:`feedkit.store.articles`)
keys readers by their normalised address (:func:`feedkit.privacy.normalise_address`, the send
log's spelling), so ``Kim@Example.org`` and ``kim@example.org`` are one reader, and keeps the
address as given for sending.

Every write is one transaction (``BEGIN IMMEDIATE``), so the web endpoint and a ``digest send``
or an import running at the same time never interleave a read and its write. Addresses are
personal data: nothing here logs or prints one; callers decide what to show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from feedkit.errors import UsageError
from feedkit.subscribers.model import CONSENT_VIA, STATUSES, Subscriber, clean_categories

_COLUMNS = ("id, address, status, categories, language, consent_at, consent_via, "
            "consent_version, bounces, created_at, updated_at, confirmed_at, left_at, left_via, "
            "bounce_week, last_bounce, link_key")


class InvalidAddress(UsageError, ValueError):
    """Not one email address (the message says why, without repeating the text)."""


def stamp(now: datetime) -> str:
    """ISO 8601 in UTC, to the second: how every time in the table is written."""
    if now.tzinfo is None:
        raise ValueError("a subscriber time must be timezone-aware")
    return now.astimezone(UTC).isoformat(timespec="seconds")


def clean(address: str) -> tuple[str, str]:
    """(the address as it is sent to, its normalised key) or :class:`InvalidAddress`."""
    from feedkit.privacy import check_address, normalise_address

    addr, why = check_address(address)
    if addr is None:
        raise InvalidAddress(f"not a usable email address ({why})")
    return addr, normalise_address(addr)


def _subscriber(row) -> Subscriber:
    (id_, address, status, cats, language, consent_at, via, version, bounces, created,
     updated, confirmed, left_at, left_via, bounce_week, last_bounce, link_key) = row
    return Subscriber(id_, address, status, tuple(json.loads(cats)), language, consent_at, via,
                      version, bounces, created, updated, confirmed, left_at, left_via,
                      bounce_week, last_bounce, link_key)


def new_link_key() -> str:
    """A fresh random key for a new subscription's links (96 bits: never guessed, never the
    same twice)."""
    import secrets

    return secrets.token_urlsafe(12)


def _cats_json(categories: Iterable[str]) -> str:
    return json.dumps(list(clean_categories(categories)), ensure_ascii=False)


def _check_via(via: str) -> None:
    if via not in CONSENT_VIA:
        raise ValueError(f"consent via must be one of {', '.join(CONSENT_VIA)}, not {via!r}")


@contextmanager
def _writing(store) -> Iterator[None]:
    """One transaction, unless the caller already holds one (an import's batch)."""
    if store.db.in_transaction:
        yield
    else:
        with store.transaction():
            yield


# -- reading ------------------------------------------------------------------------------------


def get(store, sid: int) -> Subscriber | None:
    row = store.db.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?",
                           (sid,)).fetchone()
    return _subscriber(row) if row else None


def find(store, address: str) -> Subscriber | None:
    """The reader with this address in any spelling; None for an unknown or unusable one."""
    try:
        _addr, key = clean(address)
    except InvalidAddress:
        return None
    row = store.db.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE normalised = ?",
                           (key,)).fetchone()
    return _subscriber(row) if row else None


def listing(store, status: str | None = None) -> list[Subscriber]:
    """Every reader (or those with ``status``), oldest first."""
    if status is None:
        rows = store.db.execute(f"SELECT {_COLUMNS} FROM subscribers ORDER BY id")
    else:
        rows = store.db.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE status = ? "
                                "ORDER BY id", (status,))
    return [_subscriber(r) for r in rows]


def active(store) -> list[Subscriber]:
    """The readers who get the digest, oldest first."""
    return listing(store, "active")


def count(store) -> dict[str, int]:
    """Readers per status, every status present (0 when none)."""
    found = dict(store.db.execute("SELECT status, count(*) FROM subscribers GROUP BY status"))
    return {s: found.get(s, 0) for s in STATUSES}


# -- the web endpoint's life cycle: request, confirm, change, leave -----------------------------


def request(store, address: str, categories: Iterable[str], language: str, via: str,
            consent_version: str, now: datetime) -> tuple[Subscriber, bool]:
    """Someone asks to subscribe. A new address becomes ``pending``; a pending, unsubscribed or
    bounced one goes back to ``pending`` with the new choice and consent record (leaving and
    coming back needs a new confirmation). The bool says whether a confirmation email should
    go out: False for a reader who is already active (whose choice is left as it was: changing
    it needs their own preferences link, not just knowing their address).

    One who had left or bounced starts a new subscription with a new link key: the links of
    the old one (in old digests, forwarded, or in someone else's hands) no longer act on it."""
    _check_via(via)
    addr, key = clean(address)
    at = stamp(now)
    cats = _cats_json(categories)
    with _writing(store):
        row = store.db.execute("SELECT id, status FROM subscribers WHERE normalised = ?",
                               (key,)).fetchone()
        if row is None:
            cur = store.db.execute(
                "INSERT INTO subscribers (address, normalised, status, categories, language, "
                "consent_at, consent_via, consent_version, created_at, updated_at, link_key) "
                "VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (addr, key, cats, language, at, via, consent_version, at, at, new_link_key()))
            sid, send = cur.fetchone()[0], True
        elif row[1] == "active":
            sid, send = row[0], False
        else:
            sid, send = row[0], True
            store.db.execute(
                "UPDATE subscribers SET address = ?, status = 'pending', categories = ?, "
                "language = ?, consent_at = ?, consent_via = ?, consent_version = ?, "
                "bounces = 0, bounce_week = '', last_bounce = '', confirmed_at = '', "
                "left_at = '', left_via = '', updated_at = ?, "
                "link_key = CASE WHEN status = 'pending' THEN link_key ELSE ? END WHERE id = ?",
                (addr, cats, language, at, via, consent_version, at, new_link_key(), sid))
        sub = get(store, sid)
    assert sub is not None
    return sub, send


def confirm(store, sid: int, now: datetime) -> Subscriber | None:
    """A pending reader confirms (double opt-in) and becomes active. Anyone else is left as
    they are (an old link must not bring back someone who has left since); None if unknown."""
    at = stamp(now)
    with _writing(store):
        store.db.execute("UPDATE subscribers SET status = 'active', confirmed_at = ?, "
                         "updated_at = ? WHERE id = ? AND status = 'pending'", (at, at, sid))
        return get(store, sid)


def unsubscribe(store, sid: int, now: datetime, via: str) -> Subscriber | None:
    """The reader leaves (from any status); ``via`` says how (``link``, ``one-click``,
    ``command``, ...), kept with the time. None if unknown."""
    at = stamp(now)
    with _writing(store):
        store.db.execute("UPDATE subscribers SET status = 'unsubscribed', left_at = ?, "
                         "left_via = ?, updated_at = ? WHERE id = ? AND status != "
                         "'unsubscribed'", (at, via, at, sid))
        return get(store, sid)


def set_categories(store, sid: int, categories: Iterable[str], now: datetime
                   ) -> Subscriber | None:
    """The reader's new choice of departments (empty: all). None if unknown."""
    with _writing(store):
        store.db.execute("UPDATE subscribers SET categories = ?, updated_at = ? WHERE id = ?",
                         (_cats_json(categories), stamp(now), sid))
        return get(store, sid)


# -- the operator's commands: add, import, remove ----------------------------------------------


def add(store, address: str, categories: Iterable[str], language: str, via: str,
        consent_version: str, consent_at: datetime, now: datetime, *,
        status: str = "active") -> tuple[Subscriber, str]:
    """An operator adds a reader whose consent they hold (``feedkit subscribers add`` or an
    import): active at once. Returns the reader and what happened:

    ``added`` (new), ``updated`` (known, choice or language changed, or pending until now),
    ``unchanged`` (the same again: what makes a re-import idempotent), ``kept`` (unsubscribed,
    or bounced and ``via`` is ``import``: left as they are, as Mailchimp and listmonk do: an
    old list must not sign up again someone who left; only they can, through the form).
    A bounced reader added by ``command`` is active again: the operator vouches for it.

    ``status`` other than ``active`` carries a list exported elsewhere (``feedkit subscribers
    export`` writes it): a new reader is recorded with it, and a known one who is
    ``unsubscribed`` or ``bounced`` in the file becomes so here; ``pending`` changes no one.
    """
    _check_via(via)
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    addr, key = clean(address)
    at, consent = stamp(now), stamp(consent_at)
    cats = _cats_json(categories)
    with _writing(store):
        row = store.db.execute("SELECT id, status, categories, language FROM subscribers "
                               "WHERE normalised = ?", (key,)).fetchone()
        if row is None:
            left = (at, via) if status == "unsubscribed" else ("", "")
            cur = store.db.execute(
                "INSERT INTO subscribers (address, normalised, status, categories, language, "
                "consent_at, consent_via, consent_version, created_at, updated_at, "
                "confirmed_at, left_at, left_via, link_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (addr, key, status, cats, language, consent, via, consent_version, at, at,
                 at if status == "active" else "", *left, new_link_key()))
            return get(store, cur.fetchone()[0]), "added"  # type: ignore[return-value]
        sid, current, old_cats, old_language = row
        if status != "active":
            if status == "pending" or current == status:
                return get(store, sid), "unchanged"  # type: ignore[return-value]
            if status == "unsubscribed":
                unsubscribe(store, sid, now, via)
            else:
                store.db.execute("UPDATE subscribers SET status = 'bounced', updated_at = ? "
                                 "WHERE id = ?", (at, sid))
            return get(store, sid), "updated"  # type: ignore[return-value]
        status = current
        if status == "unsubscribed" or (status == "bounced" and via != "command"):
            return get(store, sid), "kept"  # type: ignore[return-value]
        if status == "active" and old_cats == cats and old_language == language:
            return get(store, sid), "unchanged"  # type: ignore[return-value]
        if status == "active":
            store.db.execute("UPDATE subscribers SET categories = ?, language = ?, "
                             "updated_at = ? WHERE id = ?", (cats, language, at, sid))
        else:   # pending (never confirmed) or bounced: the operator's consent record wins
            store.db.execute(
                "UPDATE subscribers SET address = ?, status = 'active', categories = ?, "
                "language = ?, consent_at = ?, consent_via = ?, consent_version = ?, "
                "bounces = 0, bounce_week = '', last_bounce = '', confirmed_at = ?, "
                "updated_at = ? WHERE id = ?",
                (addr, cats, language, consent, via, consent_version, at, at, sid))
        return get(store, sid), "updated"  # type: ignore[return-value]


def purge_pending(store, before: datetime) -> int:
    """Delete the requests never confirmed whose confirmation link has expired (asked before
    ``before``): an address someone typed in, perhaps not their own, is not kept. Returns how
    many were deleted."""
    with _writing(store):
        return store.db.execute("DELETE FROM subscribers WHERE status = 'pending' AND "
                                "consent_at < ?", (stamp(before),)).rowcount


def erase(store, sid: int) -> bool:
    """Delete the reader's row and with it the address and consent record (a request to erase
    personal data). A later import of an old list can add them again, which
    :func:`unsubscribe` prevents: use that for someone who just wants to leave."""
    with _writing(store):
        return store.db.execute("DELETE FROM subscribers WHERE id = ?", (sid,)).rowcount > 0


# -- bounces ------------------------------------------------------------------------------------


def record_bounce(store, sid: int, now: datetime, *, limit: int, week: str,
                  reason: str) -> Subscriber | None:
    """A permanent delivery failure for ``week``'s digest counts against the reader; once
    ``limit`` failures in a row are counted an active reader becomes ``bounced`` and gets no
    more mail. A week already counted for this reader counts once however often it is re-run
    or reported (callers also note each (week, reader) in ``bounce_reports``, see
    :func:`count_report`). ``bounce_week`` keeps the latest week counted, also when a report
    about an older digest comes late: :func:`forgive_bounces` reads it. ``reason`` must not
    contain the address (see :func:`feedkit.privacy.scrub`)."""
    at = stamp(now)
    with _writing(store):
        sub = get(store, sid)
        if sub is None or (week and sub.bounce_week == week):
            return sub
        bounces = sub.bounces + 1
        status = "bounced" if bounces >= limit and sub.status == "active" else sub.status
        store.db.execute("UPDATE subscribers SET bounces = ?, bounce_week = ?, last_bounce = ?, "
                         "status = ?, updated_at = ? WHERE id = ?",
                         (bounces, max(sub.bounce_week, week), reason[:500], status, at, sid))
        return get(store, sid)


def forgive_bounces(store, keys: Mapping[int, str], week: str, now: datetime) -> int:
    """At the send of ``week``'s digest: start the count of failures in a row again at 0 for
    each reader of ``keys`` (subscriber id -> send-log key) whom the send log shows a digest
    *accepted* (status ``sent``) for a week after their last counted failure and before
    ``week``. Returns how many were forgiven.

    Why not at once, when the relay accepts a message: many relays accept everything at SMTP
    time and send a delivery report (a DSN, counted by ``feedkit subscribers bounces``) for a
    dead mailbox later. Resetting on acceptance undid each week's report before the next came
    (1, 0, 1, 0, ...), so such an address was mailed forever. An acceptance proves delivery
    only once no report about it arrived before the next send, which is what this reads: a
    report about that digest would have made it the last counted failure (``bounce_week`` is
    the latest week counted). Weeks are compared as labels (``2026-W05``: in order as text),
    and only weeks the reader was actually sent count, so a week without a digest for them (no
    news, none in their departments) neither counts nor forgives: ``[bounces]
    max_consecutive`` counts digests in a row, not calendar weeks. A re-run of ``week`` finds
    the same answer (only earlier weeks are read), so it forgives nothing twice."""
    at = stamp(now)
    ids = list(keys)
    forgiven: list[int] = []
    with _writing(store):
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            marks = ",".join("?" * len(batch))
            owing = store.db.execute(f"SELECT id, bounce_week FROM subscribers WHERE bounces > 0 "
                                     f"AND id IN ({marks})", batch).fetchall()
            forgiven += [sid for sid, last in owing if store.db.execute(
                "SELECT 1 FROM send_log WHERE week > ? AND week < ? AND recipient = ? "
                "AND status = 'sent' LIMIT 1", (last, week, keys[sid])).fetchone()]
        for sid in forgiven:
            store.db.execute("UPDATE subscribers SET bounces = 0, updated_at = ? WHERE id = ?",
                             (at, sid))
    return len(forgiven)


def sent_message(store, week: str, key: str) -> str | None:
    """The Message-ID of ``week``'s digest as the send log says it was handed over to the
    reader with send-log ``key`` (status sent, or sending: outcome unknown); None if it was
    not (never sent to them, refused at once, or skipped)."""
    row = store.db.execute("SELECT message_id FROM send_log WHERE week = ? AND recipient = ? "
                           "AND status IN ('sent', 'sending')", (week, key)).fetchone()
    return row[0] if row else None


def count_report(store, week: str, key: str, message_id: str, now: datetime) -> bool:
    """Note that a failure of ``week``'s digest to the reader with ``key`` is counted: a bounce
    report about the message ``message_id``, or a refusal at send time (``message_id`` "");
    False when one already was. Each (week, reader) counts once, however often a report is
    sent again or the week re-run, and whether the relay refused it or reported it later."""
    cur = store.db.execute("INSERT INTO bounce_reports (week, recipient, message_id, counted_at) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (week, recipient) DO NOTHING",
                           (week, key, message_id, stamp(now)))
    return cur.rowcount > 0
