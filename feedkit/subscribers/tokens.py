"""Signed tokens for the links in subscriber emails: confirm, unsubscribe, preferences.

A token is the subscriber's id signed with ``$FEEDKIT_SECRET`` by itsdangerous (Flask's own
signer, HMAC-SHA1 over a key derived per salt). Each purpose has its own salt, so a token made
for one purpose fails the signature check for every other: an unsubscribe link in a forwarded
digest can never confirm or change anyone's departments.

Confirm tokens carry their issue time and expire (:data:`CONFIRM_MAX_AGE`): a confirmation
email found in a mailbox months later must not turn a stale request into consent. Unsubscribe
and preferences tokens carry no time: they sit in every digest, and RFC 8058 wants the one-click
link to keep working as long as the message can be read. Without a timestamp they are also the
same for every send, so a subscriber's footer links do not change from week to week.

A token is bound to one subscription, not just to an id: each subscriber row holds a random
``link_key`` (:mod:`feedkit.store.subscribers_table`), and the key is part of the signer's
salt. A row that is erased, or a reader who left and signs up again (a new key), leaves every
earlier link dead, even if an id were ever handed out again. The token text itself carries the
id only (:func:`token_subject` reads it before the signature is checked, to find the row whose
key checks it). Rows from before link keys have ``link_key = ""``, which gives the old salt: their
links, already in mailboxes, keep working.
"""

from __future__ import annotations

import os
import time

from itsdangerous import BadData, SignatureExpired, TimestampSigner
from itsdangerous.url_safe import URLSafeSerializer, URLSafeTimedSerializer

from feedkit.errors import ConfigError

SECRET_ENV = "FEEDKIT_SECRET"
MIN_SECRET_LENGTH = 16
"""A shorter secret could be guessed offline from one token and its id."""

PURPOSES = ("confirm", "unsubscribe", "preferences")
TIMED_PURPOSES = frozenset({"confirm"})
CONFIRM_MAX_AGE = 7 * 24 * 3600
"""Seconds a confirmation link stays good: a week, time enough for a weekend away."""


class BadToken(Exception):
    """A token that is forged, damaged, for another purpose, or expired. The web endpoint
    answers all of these with one page, so nothing tells a prober which it was."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer with a clock that can be set, so an expired token can be
    made and checked at a chosen time (tests, and nothing else, pass ``now``)."""

    def __init__(self, *args, now: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now if self._now is not None else int(time.time())


def _salt(purpose: str, key: str = "") -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r} (one of {', '.join(PURPOSES)})")
    return f"feedkit.subscribers.{purpose}" + (f".{key}" if key else "")


def _serializer(secret: str, purpose: str, now: int | None, key: str = ""):
    if not secret:
        raise ConfigError(f"${SECRET_ENV} is empty: subscriber links cannot be signed")
    salt = _salt(purpose, key)
    if purpose in TIMED_PURPOSES:
        return URLSafeTimedSerializer(secret, salt=salt, signer=_ClockSigner,
                                      signer_kwargs={"now": now})
    return URLSafeSerializer(secret, salt=salt)


def make_token(secret: str, purpose: str, sid: int, *, key: str = "",
               now: int | None = None) -> str:
    """A URL-safe token for subscriber ``sid`` (whose row holds ``key``, its ``link_key``) that
    only ``purpose`` accepts.

    ``now`` (Unix seconds) sets the issue time of a timed token; left out, it is the clock's.
    """
    return _serializer(secret, purpose, now, key).dumps(int(sid))


def token_subject(secret: str, purpose: str, token: str) -> int | None:
    """The subscriber id ``token`` names, read *without* checking its signature: only to find
    the row whose ``link_key`` then checks it (:func:`read_token_issued`). None for text that
    is not a token at all."""
    try:
        _valid, value = _serializer(secret, purpose, None).loads_unsafe(token)
    except Exception:   # itsdangerous raises several kinds for garbage; none matters here
        return None
    return _subscriber_id(value)


def read_token(secret: str, purpose: str, token: str, max_age: int | None = None,
               *, key: str = "", now: int | None = None) -> int:
    """The subscriber id in ``token``, or :class:`BadToken`.

    ``max_age`` (seconds) applies to timed purposes; ``None`` means the purpose's own limit
    (:data:`CONFIRM_MAX_AGE` for confirm tokens), so a caller cannot forget the expiry.
    ``key`` is the ``link_key`` of the subscription the token must have been made for.
    """
    return read_token_issued(secret, purpose, token, max_age, key=key, now=now)[0]


def read_token_issued(secret: str, purpose: str, token: str, max_age: int | None = None,
                      *, key: str = "", now: int | None = None) -> tuple[int, int | None]:
    """(subscriber id, issue time in Unix seconds) of ``token``; the time is None for the
    untimed purposes. The endpoint uses it so that a confirm link only confirms the request it
    was sent for, not a later one (leaving and asking again needs the new email's link)."""
    serializer = _serializer(secret, purpose, now, key)
    issued: int | None = None
    try:
        if purpose in TIMED_PURPOSES:
            limit = CONFIRM_MAX_AGE if max_age is None else max_age
            value, stamp = serializer.loads(token, max_age=limit, return_timestamp=True)
            issued = int(stamp.timestamp())
        else:
            value = serializer.loads(token)
    except SignatureExpired:
        raise BadToken(f"the {purpose} link has expired", expired=True) from None
    except BadData:
        raise BadToken(f"not a valid {purpose} link") from None
    sid = _subscriber_id(value)
    if sid is None:
        raise BadToken(f"not a valid {purpose} link")
    return sid, issued


def _subscriber_id(value: object) -> int | None:
    """``value`` if it can be a subscriber id (a positive int, not a bool), else None: what a
    well-signed token holds is still checked (a bug, or a leaked secret, could sign anything)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    return value


def env_secret() -> str:
    """``$FEEDKIT_SECRET``, or a :class:`ConfigError` (exit 2) saying how to set one."""
    secret = os.environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET_LENGTH:
        what = "not set" if not secret else f"shorter than {MIN_SECRET_LENGTH} characters"
        raise ConfigError(f"${SECRET_ENV} is {what}: subscriber links are signed with it "
                          "(make one with: python -c \"import secrets; "
                          "print(secrets.token_urlsafe(32))\")")
    return secret
