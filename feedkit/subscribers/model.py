"""The subscriber record: one reader of the digest list feedkit runs itself.

A plain frozen value, the same for every part of feedkit that deals with readers (the web
endpoint, ``feedkit subscribers``, the personal digests of ``digest send``); the store rows
become these in :mod:`feedkit.subscribers.repo` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("pending", "active", "unsubscribed", "bounced")
"""pending: asked, not yet confirmed (double opt-in); active: gets the digest; unsubscribed:
left (kept, with the consent record, so a re-import does not sign them up again); bounced:
too many permanent delivery failures in a row."""

CONSENT_VIA = ("form", "import", "command")
"""How consent was given: the web form (double opt-in), an import of an existing list (the
consent column of the file), or an operator's ``feedkit subscribers add``."""


@dataclass(frozen=True)
class Subscriber:
    """One reader. ``categories`` are department names (sorted, no duplicates); empty means
    every department. Times are ISO 8601 in UTC."""

    id: int
    address: str
    status: str
    categories: tuple[str, ...]
    language: str
    consent_at: str
    consent_via: str
    consent_version: str
    bounces: int
    # Beyond the shared interface (COORD section 4): bookkeeping, with defaults so code that
    # builds a Subscriber from the nine fields above keeps working.
    created_at: str = ""
    updated_at: str = ""
    confirmed_at: str = ""
    left_at: str = ""
    left_via: str = ""
    bounce_week: str = ""
    last_bounce: str = ""
    # The random key this subscription's links are signed with (feedkit.subscribers.tokens);
    # "" for a reader from before link keys, whose links were signed without one.
    link_key: str = ""

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def clean_categories(categories) -> tuple[str, ...]:
    """Department names as stored: stripped, empty ones dropped, no duplicates, sorted (so two
    readers with the same choice in any order share one rendered digest)."""
    return tuple(sorted({c.strip() for c in categories if c and c.strip()}))
