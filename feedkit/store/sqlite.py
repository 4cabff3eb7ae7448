"""The SQLite backend: one file, nothing to start (the default store).

Opening is where SQLite needs care: a new store must appear complete or not at all, and an
empty file must never be taken for an empty store (the send log, who already got which week,
would silently be gone and the next send would mail everyone again).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from feedkit.errors import FeedkitError


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode (the store opens its transactions itself), WAL so
    readers never wait for the writer."""
    # check_same_thread=False: `digest send` writes its log from each SMTP connection's
    # thread, one at a time under its own lock (feedkit.mail.send._Run).
    db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout,
                         check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    return db


def open_sqlite(path: Path, busy_timeout: float,
                initialise: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """Connect to the store file at ``path``, creating it with ``initialise`` (the
    migrations) when it does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path, busy_timeout, initialise)
    elif path.is_file() and path.stat().st_size == 0:
        # feedkit never leaves an empty file (see _create): it is a store that was truncated
        # or replaced, and SQLite would take it for a new, empty one.
        raise FeedkitError(
            f"{path}: the article store is an empty file (0 bytes), not a store; "
            "restore it from a backup or rebuild it with 'feedkit import' from your "
            "export (and --send-log), or delete it to start a new, empty store")
    return connect(path, busy_timeout)


def _create(path: Path, busy_timeout: float,
            initialise: Callable[[sqlite3.Connection], None]) -> None:
    """Built under a temporary name, then hard-linked into place, which fails if another
    process got there first (then its store is the one used). So no reader ever sees a
    half-made or empty file."""
    import tempfile  # here, not at the top: it costs a no-op build ~3 ms of imports

    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()   # let SQLite create it
        db = connect(tmp, busy_timeout)
        try:
            initialise(db)
        finally:
            db.close()   # the last connection: the WAL is checkpointed into the file
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass   # another process created the store meanwhile: use that one
        except OSError:
            if not path.exists():   # a file system without hard links
                os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


class StoreError(FeedkitError):
    """SQLite could not do what was asked of the store file: one line saying which file, what
    went wrong and what to do (never a traceback)."""

    def __init__(self, path: Path, exc: sqlite3.Error, what: str = "article store error"):
        self.path, self.cause = path, exc
        text = str(exc)
        if text.startswith("Could not decode to UTF-8"):
            # feedkit writes only UTF-8: undecodable text is damage SQLite did not notice (the
            # bytes landed inside a row). Name the column, not the garbage.
            text = "malformed text in the store (" + text.split(" with text", 1)[0] + ")"
            exc = sqlite3.DatabaseError(text)
        if "locked" in text or "busy" in text:
            advice = ("another process (feedkit, a backup or an sqlite3 shell) is writing to it; "
                      "wait for it to finish, or raise [store] busy_timeout")
        elif isinstance(exc, sqlite3.DatabaseError) and (
                "malformed" in text or "not a database" in text or "corrupt" in text):
            advice = ("the file is damaged; restore it from a backup or rebuild it with "
                      "'feedkit import' from your export (and --send-log)")
        elif "readonly" in text or "read-only" in text:
            advice = "it cannot be written; check the file's and its folder's permissions"
        elif "disk is full" in text or "full" in text:
            advice = "the disk is full; free some space"
        else:
            advice = "check the file"
        super().__init__(f"{path}: {what}: {text}: {advice}")
