"""An editor's decisions about a digest week: its approval (``[digest] require_approval``) and
its note (shown at the top of the email and the archive page).

Both live in the store (tables ``digest_approvals`` and ``digest_notes``) and travel as text
(:func:`export_editorial` / :func:`import_editorial`, ``feedkit export/import --editorial``),
because a city that runs feedkit from a scheduled CI workflow rebuilds its store from committed
text every run: an approval an editor gives on their own machine reaches the workflow as a
committed line.

Every decision carries the time it was made, and taking one back (``--revoke``, ``--clear``)
is a decision too (a row with ``approved = 0`` or an empty note), not a deleted row. Importing
keeps, per week, whichever decision is newer: an editor who imports the committed file again
(still without the approval they just gave, or with an approval they just revoked) keeps their
newer decision, and a revocation that reaches the workflow stops the send. Equal times keep
what the store has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from feedkit.errors import FeedkitError


@dataclass(frozen=True)
class Approval:
    week: str
    approved: bool
    changed_at: str   # ISO 8601, UTC, whole seconds


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds")


# -- approvals ------------------------------------------------------------------------------------


def approval(store, week: str) -> Approval | None:
    """The latest decision about ``week`` (approved or revoked), None if there never was one."""
    row = store.db.execute("SELECT week, approved, changed_at FROM digest_approvals "
                           "WHERE week = ?", (week,)).fetchone()
    return Approval(row[0], bool(row[1]), row[2]) if row else None


def is_approved(store, week: str) -> bool:
    found = approval(store, week)
    return found is not None and found.approved


def set_approval(store, week: str, approved: bool, now: datetime) -> Approval:
    """Approve (or revoke the approval of) ``week`` as of ``now``; committed at once."""
    record = Approval(week, approved, _stamp(now))
    store.db.execute(
        "INSERT INTO digest_approvals (week, approved, changed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (week) DO UPDATE SET approved = excluded.approved, "
        "changed_at = excluded.changed_at", (week, int(approved), record.changed_at))
    return record


# -- notes -----------------------------------------------------------------------------------------


def note(store, week: str) -> str:
    """The Markdown note for ``week`` ("" if none)."""
    row = store.db.execute("SELECT markdown FROM digest_notes WHERE week = ?",
                           (week,)).fetchone()
    return row[0] if row else ""


def notes(store) -> dict[str, str]:
    """Every week's note, by week, for the archive's fingerprints (a handful of rows)."""
    return dict(store.db.execute(
        "SELECT week, markdown FROM digest_notes WHERE markdown != '' ORDER BY week"))


def set_note(store, week: str, markdown: str, now: datetime) -> None:
    """Write (or, with ``markdown=""``, clear) the note of ``week``; committed at once. The
    text is stored as given: check it first with :func:`feedkit.editorial.note.check_note`."""
    store.db.execute(
        "INSERT INTO digest_notes (week, markdown, changed_at) VALUES (?, ?, ?) "
        "ON CONFLICT (week) DO UPDATE SET markdown = excluded.markdown, "
        "changed_at = excluded.changed_at", (week, markdown, _stamp(now)))
    # A note is part of the archive page: the build's "nothing changed" shortcut reads this.
    store._bump_generation()


# -- as text ---------------------------------------------------------------------------------------


def export_editorial(store) -> bytes:
    """Every decision (revocations and cleared notes too, see the module docstring) as JSON
    Lines, sorted by week, approval before note: the same store gives the same bytes."""
    lines = []
    for week, approved, at in store.db.execute(
            "SELECT week, approved, changed_at FROM digest_approvals"):
        lines.append(((week, 0), {"week": week, "kind": "approval", "approved": bool(approved),
                                  "changed_at": at}))
    for week, markdown, at in store.db.execute(
            "SELECT week, markdown, changed_at FROM digest_notes"):
        lines.append(((week, 1), {"week": week, "kind": "note", "markdown": markdown,
                                  "changed_at": at}))
    lines.sort(key=lambda pair: pair[0])
    return "".join(json.dumps(record, ensure_ascii=False) + "\n"
                   for _, record in lines).encode("utf-8")


def _valid_week(label: str) -> bool:
    """``2024-W51`` exactly (the form export writes), and a week that exists."""
    import re

    if not re.fullmatch(r"\d{4}-W\d{2}", label):
        return False
    try:
        date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
    except ValueError:
        return False
    return True


def _read_line(path: Path, number: int, line: str) -> tuple[str, str, object, str]:
    """(week, kind, value, changed_at) of one exported line, or a FILE:LINE error."""
    from feedkit.editorial.note import check_note

    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FeedkitError(f"{where}: not an editorial record ({exc})") from None
    if not isinstance(record, dict):
        raise FeedkitError(f"{where}: not an editorial record (expected a JSON object)")
    week, kind, at = record.get("week"), record.get("kind"), record.get("changed_at")
    if not isinstance(week, str) or not _valid_week(week):
        raise FeedkitError(f"{where}: week: expected an ISO week like 2024-W51, got {week!r}")
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise FeedkitError(f"{where}: changed_at: expected an ISO 8601 time with its offset, "
                           f"got {at!r}")
    if kind == "approval":
        value = record.get("approved")
        if not isinstance(value, bool):
            raise FeedkitError(f"{where}: approved: expected true or false, got {value!r}")
        return week, kind, int(value), _stamp(when)
    if kind == "note":
        text = record.get("markdown")
        if not isinstance(text, str):
            raise FeedkitError(f"{where}: markdown: expected a string, got {text!r}")
        try:
            text = check_note(text) if text else ""
        except FeedkitError as exc:
            raise FeedkitError(f"{where}: {exc}") from None
        return week, kind, text, _stamp(when)
    raise FeedkitError(f"{where}: kind: expected 'approval' or 'note', got {kind!r}")


def _notes_state(store) -> list[tuple[str, str]]:
    return store.db.execute("SELECT week, changed_at FROM digest_notes ORDER BY week").fetchall()


def import_editorial(store, path: Path) -> int:
    """Merge an exported file into the store, keeping per week the newer decision. All or
    nothing: a bad line stops the import before anything is written. A missing file is
    nothing to import (a site that never approved or wrote a note has none)."""
    from feedkit.errors import check_readable

    if not path.exists():
        return 0
    check_readable(path)
    rows = [_read_line(path, number, line)
            for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1)
            if line.strip()]
    with store.transaction():
        notes_before = _notes_state(store)
        for week, kind, value, at in rows:
            table, column = (("digest_approvals", "approved") if kind == "approval"
                             else ("digest_notes", "markdown"))
            store.db.execute(
                f"INSERT INTO {table} (week, {column}, changed_at) VALUES (?, ?, ?) "
                f"ON CONFLICT (week) DO UPDATE SET {column} = excluded.{column}, "
                f"changed_at = excluded.changed_at WHERE excluded.changed_at > {table}.changed_at",
                (week, value, at))
        if _notes_state(store) != notes_before:
            store._bump_generation()   # a note changed: so did its archive page
    return len(rows)
