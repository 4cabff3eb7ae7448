"""Several senders on one store: which run sends to which reader is decided in the store.

Why: two ``feedkit digest send`` runs for the same week (a scheduled run overlapping a manual
one, or several senders sharing a PostgreSQL store to get a large list out sooner) would each
send to every reader the send log does not yet mark sent. So a run *claims* its readers, a small
batch at a time, before it hands any of them over: one row per (week, reader key) in
``send_claims``, inserted with ``INSERT … ON CONFLICT DO NOTHING RETURNING``. Of several runs
claiming the same reader exactly one gets the row (PostgreSQL: a competing insert waits for the
other's one-statement transaction to end, then skips the row; SQLite: one writer at a time).
Right after the claim the send log is read again, and a reader another run marked sent in the
meantime is dropped. The send log stays the record of what happened (``sending`` before each
hand-over, then ``sent`` / ``deferred`` / ``failed``); a claim says only "this run is on it".

Liveness without timeouts: each run holds a lock that dies with its process, and a claim whose
run no longer holds its lock is *reaped* (deleted) by the next run that looks (at its start, and
when it has gone through its list), which then sends to those readers itself.

- PostgreSQL: a session advisory lock (``pg_advisory_lock``) on the run's store connection; the
  server releases it when the connection ends, which a killed process's connection does. Others
  test it with ``pg_try_advisory_lock``. (A connection pooler in transaction mode would break
  session locks: give ``digest send`` a direct connection.)
- SQLite: ``fcntl.flock`` on a small file beside the store (``<store>.senders/<claimant>.lock``),
  released by the kernel when the process ends. Without ``fcntl`` (not POSIX) every other run
  counts as gone: feedkit behaves as before claims existed (a killed run is resumed; two runs at
  the same moment are not kept apart).

A reaped reader whose log entry says ``sending`` may have been accepted by the server just
before the kill: it is sent again, with the same Message-ID (the at-least-once window of
:mod:`feedkit.mail.send`). A run deletes its own claims when it ends: what it did is in the log,
and a reader it could not finish (deferred, or the run stopped) is free for the next run.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

# Store migration 7 (feedkit.store.articles.MIGRATIONS): portable SQL, runs on both backends.
BATCH = 10
"""Readers claimed at a time by one connection: small, so that a run that stops or dies holds
few readers back, and several runs share the list evenly; large enough that the claim (one
insert and one read) costs little beside the two log writes each reader gets anyway."""


def lock_key(claimant: str) -> int:
    """The PostgreSQL advisory-lock number of one run (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"feedkit-sender:{claimant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Claimant:
    """One run's claims on one week's readers, and the lock that says the run is alive.

    Not thread-safe by itself: the sender calls it under its run lock (one store connection
    shared by the SMTP connections' threads)."""

    def __init__(self, store, week: str):
        self.store, self.week = store, week
        self.name = uuid.uuid4().hex
        self._fd: int | None = None
        self._file: Path | None = None
        if store.dialect == "postgresql":
            store.db.execute("SELECT pg_advisory_lock(?)", (lock_key(self.name),))
        else:
            self._lock_file()

    # -- the run's life lock -----------------------------------------------------------------

    def _folder(self) -> Path:
        # Resolved: runs reaching the store through different paths (a symlink) must agree.
        return Path(f"{Path(self.store.path).resolve()}.senders")

    def _lock_file(self) -> None:
        """Create ``<claimant>.lock`` already locked: built under a temporary name, locked,
        then renamed into place, so nobody ever sees it unlocked while the run lives (a reaper
        deletes an unlocked one)."""
        try:
            import fcntl
        except ImportError:
            return
        folder = self._folder()
        for _attempt in range(5):   # another run may remove the empty folder meanwhile
            folder.mkdir(exist_ok=True)
            tmp = folder / f".{self.name}.tmp"
            try:
                fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileNotFoundError:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._file = folder / f"{self.name}.lock"
            os.rename(tmp, self._file)
            self._fd = fd
            return

    def _alive(self, other: str) -> bool:
        """Whether run ``other`` still holds its lock (is still running)."""
        if self.store.dialect == "postgresql":
            key = lock_key(other)
            free = self.store.db.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]
            if free:
                self.store.db.execute("SELECT pg_advisory_unlock(?)", (key,))
            return not free
        try:
            import fcntl
        except ImportError:
            return False
        path = self._folder() / f"{other}.lock"
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            path.unlink(missing_ok=True)   # its run is gone and never locks it again
            return False
        finally:
            os.close(fd)

    # -- claims ------------------------------------------------------------------------------

    def claim(self, keys: Sequence[str]) -> tuple[list[str], list[str]]:
        """Claim ``keys`` (reader keys) for this run: returns ``(mine, sent)``: the keys this
        run got and may send to, and those it got but another run has meanwhile marked sent.
        Keys another run holds are in neither."""
        if not keys:
            return [], []
        # Sorted: two runs claiming overlapping batches take the rows in one order, so their
        # inserts can wait for each other but never deadlock.
        keys = sorted(keys)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = ", ".join(["(?, ?, ?, ?)"] * len(keys))
        params: list[str] = []
        for key in keys:
            params += [self.week, key, self.name, now]
        got = [r[0] for r in self.store.db.execute(
            f"INSERT INTO send_claims (week, recipient, claimant, claimed_at) VALUES {rows} "
            "ON CONFLICT (week, recipient) DO NOTHING RETURNING recipient", params)]
        if not got:
            return [], []
        marks = ", ".join("?" * len(got))
        sent = {r[0] for r in self.store.db.execute(
            f"SELECT recipient FROM send_log WHERE week = ? AND status = 'sent' AND "
            f"recipient IN ({marks})", [self.week, *got])}
        return [k for k in got if k not in sent], [k for k in got if k in sent]

    def reap(self) -> int:
        """Delete the claims of runs that are gone (killed, or ended by an error before they
        could tidy up); returns how many readers that frees."""
        others = [r[0] for r in self.store.db.execute(
            "SELECT DISTINCT claimant FROM send_claims WHERE week = ? AND claimant != ?",
            (self.week, self.name))]
        freed = 0
        for other in others:
            if not self._alive(other):
                cur = self.store.db.execute(
                    "DELETE FROM send_claims WHERE week = ? AND claimant = ?", (self.week, other))
                freed += max(cur.rowcount, 0)
        return freed

    def finish(self) -> None:
        """Delete this run's claims (the send log says what it did) and release its lock."""
        try:
            self.store.db.execute("DELETE FROM send_claims WHERE claimant = ?", (self.name,))
        finally:
            self._release()

    def _release(self) -> None:
        if self.store.dialect == "postgresql":
            self.store.db.execute("SELECT pg_advisory_unlock(?)", (lock_key(self.name),))
            return
        if self._fd is not None and self._file is not None:
            self._file.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None
            with suppress(OSError):
                self._folder().rmdir()   # only when no other run has its file there
