"""CSRF protection of the subscribe form: a signed double-submit token, no server state.

GET /subscribe sets a random nonce in a cookie (HttpOnly, SameSite=Lax) and puts the nonce,
signed with the site secret (itsdangerous, its own salt, one day's validity), into a hidden
form field. POST /subscribe is accepted only when the field's signature holds and its nonce
equals the cookie's. Another site can make a browser post the form but can neither read the
cookie nor sign a field for it. A present ``Origin`` header must also be this endpoint's
origin: browsers send it with every form POST, so a cross-site post fails twice. "This
endpoint's origin" is ``[web] url``'s (and the address ``feedkit web`` listens on), never one
taken from the request's ``Host`` header: a page on a name that resolves to this server (DNS
rebinding) sends its own name in both, and would pass.

Why not a session or Flask-WTF: the app keeps no session (it has no logins), and this is the
whole mechanism in 40 lines with the signer Flask already brings. The token pages (confirm,
unsubscribe, preferences) need none: the signed token in their path is a secret no other site
has, and RFC 8058 one-click POSTs come from mail providers with no cookie at all.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "feedkit_csrf"
FIELD = "csrf"
MAX_AGE = 24 * 3600
"""A form left open longer than a day asks to be sent again (with a fresh token)."""
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="feedkit.web.csrf")


def nonce_from(cookie: str | None) -> str:
    """The browser's nonce if it sent a well-formed one, else a new one (to be set)."""
    return cookie if cookie and _NONCE.match(cookie) else secrets.token_urlsafe(24)


def field_for(secret: str, nonce: str) -> str:
    """The hidden field's value for this nonce."""
    return _serializer(secret).dumps(nonce)


def same_origin(origin: str | None, allowed: set[str]) -> bool:
    """A missing ``Origin`` passes (older browsers, privacy tools strip it; the token still
    has to hold); ``null`` or any other origin fails."""
    if origin is None or origin == "":
        return True
    return origin.rstrip("/").lower() in allowed


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def valid(secret: str, cookie: str | None, field: str | None, *, max_age: int = MAX_AGE) -> bool:
    """Whether a POST's field and cookie make a pair signed by this site."""
    if not cookie or not field or not _NONCE.match(cookie):
        return False
    try:
        nonce = _serializer(secret).loads(field, max_age=max_age)
    except BadData:
        return False
    return isinstance(nonce, str) and hmac.compare_digest(nonce, cookie)
