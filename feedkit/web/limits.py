"""Rate limits of the subscribe form: per mailbox (confirmation emails), per client network,
and overall (confirmation emails per hour).

The counters live in the web process's memory, not in the store, on purpose:

* they are short-lived (an hour, a day) and worthless after a restart, while writing them to
  SQLite would put a write and its lock on every form post, the very thing a flood sends;
* the per-mailbox counter is keyed by a keyed hash (the send log's
  :func:`feedkit.privacy.recipient_key`) of the folded mailbox, so not even a memory dump lists
  who asked;
* ``feedkit web`` is one waitress process (threads, not forks), so one counter sees every
  request. Under a server that forks N workers each keeps its own and the limits are N times
  looser: still a bound, and the README says so.

What is counted is what an abuser cannot vary for free. One inbox has many spellings
(``victim+1@``, ``v.ictim@gmail.com``, full-width letters): :func:`mailbox_of` folds them, for
the limit only (the address is still stored and mailed as given). One person has many IP
addresses: :func:`client_network` counts a client's /24 (IPv4) or /64 (IPv6, what one
household or server usually gets). And the overall hourly limit bounds what the endpoint sends
whatever the spelling or network, so that it never becomes someone's mail cannon.

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
GMAIL = frozenset({"gmail.com", "googlemail.com"})
"""Domains that ignore dots in the local part (Google's), folded to one."""


def mailbox_of(address: str) -> str:
    """The inbox ``address`` reaches, as the per-mailbox limit counts it: NFKC-folded (full-width
    letters are their ASCII selves) and case-folded, the ``+tag`` of the local part dropped
    (subaddressing: Gmail, Outlook, Fastmail, Postfix's default delimiter), the dots of a Gmail
    local part dropped and googlemail.com read as gmail.com, the domain in its IDNA form. For the
    limit only: it may fold two real mailboxes together (a stricter limit), never the other way.
    """
    import unicodedata

    from feedkit.privacy import ascii_domain

    folded = unicodedata.normalize("NFKC", address).casefold().strip()
    local, at, domain = folded.rpartition("@")
    if not at:
        return folded
    domain = ascii_domain(domain) or domain.rstrip(".")
    local = local.split("+", 1)[0] or local
    if domain in GMAIL:
        domain, local = "gmail.com", local.replace(".", "")
    return f"{local}@{domain}"


def client_network(remote: str) -> str:
    """The network a client address counts under: its /24 for IPv4, its /64 for IPv6 (an
    IPv4-mapped IPv6 address is its IPv4 one); anything else as it is."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(remote.strip("[]").split("%", 1)[0])
    except ValueError:
        return remote
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


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
