"""The ``unsubscribed`` table (a store migration): readers of the list who asked to leave.

In list mode the addresses live in a secret (``$FEEDKIT_RECIPIENTS``) that feedkit cannot edit.
A reader who asks to leave (:mod:`feedkit.mail.unsubscribes`) is kept here instead, by the same
keyed hash as the send log (:func:`feedkit.privacy.recipient_key`: never the address), and
``digest send`` skips every reader on it, whatever the secret still says. The CI workflow that
rebuilds its store every run carries it as text beside the send log (``feedkit export
--unsubscribed``), so it may be committed to a public repository.

One row per reader: when (``at``, ISO 8601 UTC) and how (``via``: ``mailto`` for a request
mailed to the unsubscribe address).
"""

from __future__ import annotations

import json
from pathlib import Path

from feedkit.errors import FeedkitError

MIGRATION = """
    CREATE TABLE unsubscribed (
        recipient  TEXT PRIMARY KEY,
        at         TEXT NOT NULL,
        via        TEXT NOT NULL
    )
    """
VIAS = ("mailto",)


def suppress(store, key: str, at: str, via: str = "mailto") -> bool:
    """Put the reader with send-log key ``key`` on the list; False if already there (the
    first request's time is kept)."""
    before = store.db.execute("SELECT 1 FROM unsubscribed WHERE recipient = ?",
                              (key,)).fetchone()
    if before:
        return False
    store.db.execute("INSERT INTO unsubscribed (recipient, at, via) VALUES (?, ?, ?) "
                     "ON CONFLICT (recipient) DO NOTHING", (key, at, via))
    return True


def forget(store, key: str) -> bool:
    """Take a reader off the list (they asked to come back); False if they were not on it."""
    found = store.db.execute("SELECT 1 FROM unsubscribed WHERE recipient = ?",
                             (key,)).fetchone()
    store.db.execute("DELETE FROM unsubscribed WHERE recipient = ?", (key,))
    return bool(found)


def suppressed(store) -> set[str]:
    """Every key on the list."""
    return {r[0] for r in store.db.execute("SELECT recipient FROM unsubscribed")}


def export_unsubscribed(store) -> bytes:
    """The list as sorted JSON Lines (keys only; deterministic)."""
    rows = store.db.execute("SELECT recipient, at, via FROM unsubscribed ORDER BY recipient")
    return "".join(json.dumps({"recipient": r, "at": at, "via": via}) + "\n"
                   for r, at, via in rows).encode("utf-8")


def read_unsubscribed(text: str, where: str) -> list[tuple[str, str, str]]:
    """(recipient key, at, via) of each line of an export; a bad line is a ``WHERE:LINE``
    error. A line naming an address instead of a key is refused: the file is committed."""
    from feedkit.privacy import is_key

    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            row = (record["recipient"], record["at"], record["via"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise FeedkitError(f"{where}:{number}: not an unsubscribe record ({exc})") from None
        if not all(isinstance(v, str) for v in row) or not is_key(row[0]) or "\x00" in row[1]:
            raise FeedkitError(f"{where}:{number}: not an unsubscribe record (recipient must "
                               "be a keyed hash, at and via text)")
        rows.append(row)
    return rows


def import_unsubscribed(store, path: Path) -> int:
    """Merge an export into the store (a reader on either stays on); a missing file is an
    empty list."""
    from feedkit.errors import check_readable

    if not path.exists():
        return 0
    check_readable(path)
    rows = read_unsubscribed(path.read_text(encoding="utf-8-sig"), str(path))
    with store.transaction():
        for key, at, via in rows:
            suppress(store, key, at, via)
    return len(rows)
