"""The endpoint's store connections: a new one per request on SQLite, one kept per thread on
PostgreSQL.

Why the difference: opening the SQLite file costs about a millisecond, and opening it anew means
a store restored from a backup is seen at the next request. Opening a PostgreSQL store costs a
server connection (a new backend process), the session settings and the schema-version check:
several round trips, measured at 17-33 ms per request more than SQLite on the subscribe page
(bench/bench_web_backends.py). So on PostgreSQL each thread that touches the store (waitress's
worker threads, the outbox's sender) keeps its connection between requests: at most
``threads + 1`` connections per ``feedkit web`` process, as a pool of that size would hold.

A kept connection is checked before each request with one round trip and replaced when the check
fails (the server restarted, an idle timeout cut it) or when it is older than :data:`MAX_AGE`
(a long-lived session must not outlive a migration another feedkit ran: opening anew checks the
schema version again). A request that ends inside a transaction (an error mid-write) has it
rolled back before the connection serves the next one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.store.articles import Store

MAX_AGE = 300.0
"""Seconds a kept PostgreSQL connection serves before it is replaced by a new one."""


class StoreSource:
    """Hands each request its store (:meth:`acquire`) and takes it back (:meth:`release`)."""

    def __init__(self, config: Config, *, opener: Callable[[Config], Store] | None = None,
                 max_age: float = MAX_AGE, clock: Callable[[], float] = time.monotonic):
        from feedkit.store.backends import open_store, store_url

        self.config = config
        self.shared = bool(store_url(config))   # PostgreSQL: keep one per thread
        self._open = opener or open_store
        self.max_age = max_age
        self._clock = clock
        self._local = threading.local()
        self._count = threading.Lock()
        self.opened = 0   # stores opened so far (for tests and the benchmark)

    def acquire(self) -> Store:
        if not self.shared:
            return self._new()
        kept: tuple[Store, float] | None = getattr(self._local, "kept", None)
        if kept is not None:
            store, since = kept
            if self._clock() - since < self.max_age and _alive(store):
                return store
            self._local.kept = None
            _close_quietly(store)
        store = self._new()
        self._local.kept = (store, self._clock())
        return store

    def _new(self) -> Store:
        store = self._open(self.config)
        with self._count:
            self.opened += 1
        return store

    def release(self, store: Store) -> None:
        if not self.shared:
            store.close()
            return
        try:
            if store.db.in_transaction:
                store.db.execute("ROLLBACK")
        except FeedkitError:
            self._local.kept = None   # unusable: the next request opens a new one
            _close_quietly(store)

    def discard(self) -> None:
        """Close this thread's kept connection, if any (a thread that is done with the store)."""
        kept = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None:
            _close_quietly(kept[0])


def _alive(store: Store) -> bool:
    try:
        store.db.execute("SELECT 1").fetchone()
    except FeedkitError:
        return False
    return True


def _close_quietly(store: Store) -> None:
    # A broken connection may fail to close; it is gone either way.
    with contextlib.suppress(Exception):
        store.close()
