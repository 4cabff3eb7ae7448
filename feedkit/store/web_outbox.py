"""The ``web_outbox`` table's queries (its DDL: :mod:`feedkit.store.subscribers_table`): the web
endpoint's confirmation emails waiting for the relay (:mod:`feedkit.web.outbox` sends them).

A row is *claimed* before it is sent: its ``next_try`` moves :data:`LEASE` seconds ahead in one
``UPDATE ... WHERE next_try <= now``, which only one process can win, so two ``feedkit web``
processes on one store never send one email twice, and one that dies while sending leaves the
row to be taken again once the lease is over. Times are Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

LEASE = 300
"""Seconds a claimed row is left to the process sending it (an SMTP hand-over takes less)."""


@dataclass(frozen=True)
class Waiting:
    id: int
    recipient: str
    who: str
    data: bytes
    attempts: int
    expires: int


def keep(store, recipient: str, who: str, data: bytes, *, now: float, expires: float) -> int:
    """Store one email to send (due at once); its row id."""
    at = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
    row = store.db.execute(
        "INSERT INTO web_outbox (recipient, who, data, attempts, next_try, expires, created_at) "
        "VALUES (?, ?, ?, 0, ?, ?, ?) RETURNING id",
        (recipient, who, data.decode("utf-8"), int(now), int(expires), at)).fetchone()
    return row[0]


def claim_due(store, now: float, limit: int = 20) -> list[Waiting]:
    """The due rows (oldest first) this process has claimed for the next :data:`LEASE`
    seconds; expired ones are deleted, not claimed."""
    t = int(now)
    store.db.execute("DELETE FROM web_outbox WHERE expires <= ?", (t,))
    claimed = []
    for (id_,) in store.db.execute("SELECT id FROM web_outbox WHERE next_try <= ? "
                                   "ORDER BY next_try, id LIMIT ?", (t, limit)).fetchall():
        won = store.db.execute("UPDATE web_outbox SET next_try = ? WHERE id = ? AND "
                               "next_try <= ?", (t + LEASE, id_, t)).rowcount
        if won:
            row = store.db.execute("SELECT id, recipient, who, data, attempts, expires FROM "
                                   "web_outbox WHERE id = ?", (id_,)).fetchone()
            if row is not None:
                claimed.append(Waiting(row[0], row[1], row[2], row[3].encode("utf-8"),
                                       row[4], row[5]))
    return claimed


def done(store, id_: int) -> None:
    """Sent, or refused for good: the row (and the address in it) goes."""
    store.db.execute("DELETE FROM web_outbox WHERE id = ?", (id_,))


def later(store, id_: int, *, attempts: int, next_try: float) -> None:
    """Not sent this time (the relay is slow or down): try again at ``next_try``."""
    store.db.execute("UPDATE web_outbox SET attempts = ?, next_try = ? WHERE id = ?",
                     (attempts, int(next_try), id_))


def waiting(store) -> int:
    """Emails still waiting for the relay."""
    return store.db.execute("SELECT count(*) FROM web_outbox").fetchone()[0]


def next_due(store) -> int | None:
    """When the earliest waiting email is due (Unix seconds), or None."""
    return store.db.execute("SELECT min(next_try) FROM web_outbox").fetchone()[0]
