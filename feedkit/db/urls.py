"""Store URLs and schema names: what config checks and messages need, without the store."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

STORE_URL_ENV = "FEEDKIT_STORE_URL"
URL_SCHEMES = ("postgresql", "postgres")
# A PostgreSQL schema name feedkit creates and quotes itself: lower-case, no quoting surprises.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_url(target: object) -> bool:
    """True for a PostgreSQL connection URL, False for a SQLite file path."""
    return isinstance(target, str) and target.split("://", 1)[0] in URL_SCHEMES \
        and "://" in target


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs (a CI log is public)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
