"""Store URLs and schema names: what config checks and messages need, without the store."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

STORE_URL_ENV = "FEEDKIT_STORE_URL"
URL_SCHEMES = ("postgresql", "postgres")
# A PostgreSQL schema name feedkit creates and quotes itself: lower-case, no quoting surprises.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_url(target: object) -> bool:
    """True for a PostgreSQL connection URL, False for a SQLite file path."""
    return isinstance(target, str) and target.split("://", 1)[0] in URL_SCHEMES \
        and "://" in target


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs (a CI log is public). A password
    holding an unescaped ``/ # ?`` breaks the URL apart so that urllib finds no password (or
    no valid port): then it is cut out by text, everything between the user's ``:`` and the
    last ``@``."""
    parts = urlsplit(url)
    try:
        if parts.password is None:
            return _redact_text(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:   # a port that is not a number: a piece of a broken-apart password?
        return _redact_text(url)
    return urlunsplit(parts._replace(netloc=netloc))


def _redact_text(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def password_pieces(url: str) -> list[str]:
    """Every form in which ``url``'s password could appear in a driver's message, longest
    first: as written, percent-decoded, and, for a password with an unescaped ``/ # ? :`` that
    breaks the URL apart, each of its pieces (libpq then quotes one back as a "port" or a
    "token"). Found by text, not by parsing, which is what such a password defeats."""
    rest = url.split("://", 1)[-1]
    if "@" not in rest:
        return []
    userinfo = rest.rsplit("@", 1)[0]
    if ":" not in userinfo:
        return []
    raw = userinfo.split(":", 1)[1]
    pieces = {raw, unquote(raw), *re.split(r"[/#?:@]", raw)}
    return sorted((p for p in pieces if len(p) >= 2), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with any piece of ``url``'s password replaced by ``***``."""
    for piece in password_pieces(url):
        text = text.replace(piece, "***")
    return text


def pg_label(url: str, schema: str = "") -> str:
    """A PostgreSQL store as messages name it: the URL without its password, and the schema.
    One spelling, so that a copy can tell a store from its own label."""
    return redact(url) + (f" (schema {schema})" if schema else "")
