"""Rate limits of the subscribe form: per address (confirmation emails) and per client.

The counters live in the web process's memory, not in the store, on purpose:

* they are short-lived (an hour, a day) and worthless after a restart, while writing them to
  SQLite would put a write and its lock on every form post, the very thing a flood sends;
* the per-address counter is keyed by a keyed hash of the normalised address (the send log's
  :func:`feedkit.privacy.recipient_key`), so not even a memory dump lists who asked;
* ``feedkit web`` is one waitress process (threads, not forks), so one counter sees every
  request. Under a server that forks N workers each keeps its own and the limits are N times
  looser: still a bound, and the README says so.

A restart forgets the counts, which gives an abuser nothing they could not get by waiting: the
windows are an hour and a day.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

HOUR = 3600
DAY = 24 * HOUR


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each key (a sliding log)."""

    def __init__(self, limit: int, window: float, *,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Count one event for ``key``; False (and nothing counted) when it is over the limit.
        A limit of 0 or less means no limit."""
        if self.limit <= 0:
            return True
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self.max_keys:
                    self._prune(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if not events or len(events) < self.limit:
                return 0
            return max(1, int(events[0] + self.window - now + 0.999))

    def _prune(self, now: float) -> None:
        """Forget keys with no event left in the window; if a flood of distinct keys still
        fills the table, forget the oldest half (memory stays bounded, limits loosen)."""
        for key in [k for k, ev in self._events.items() if not ev or ev[-1] <= now - self.window]:
            del self._events[key]
        if len(self._events) >= self.max_keys:
            oldest = sorted(self._events, key=lambda k: self._events[k][-1])
            for key in oldest[: len(oldest) // 2]:
                del self._events[key]
