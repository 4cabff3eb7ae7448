"""Store URLs and schema names: what config checks and messages need, without the store."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

STORE_URL_ENV = "FEEDKIT_STORE_URL"
URL_SCHEMES = ("postgresql", "postgres")
# A PostgreSQL schema name feedkit creates and quotes itself: lower-case, no quoting surprises.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# The libpq parameters that hold a secret: the password, and the one of the TLS client key.
# libpq reads them in every form of a connection string: the URL's user:PASSWORD@, a query
# parameter (?password=..., the key percent-decoded, so ?pass%77ord= counts), and the
# keyword form (host=... password=...).
SECRET_PARAMS = ("password", "sslpassword")
_QUERY_PARAM = re.compile(r"([?&])([^&=#?]*)=([^&#]*)")
_KEYWORD_PARAM = re.compile(r"(?<![^\s])(\w+)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s']\S*|)")


def schema_problem(schema: str) -> str:
    """Why ``schema`` cannot hold a site's store, or "": feedkit's own naming rule, and never
    one of PostgreSQL's system schemas (``pg_catalog``, ``pg_toast``, ``information_schema``:
    a superuser's store would write among the catalogs)."""
    if not SCHEMA_NAME.fullmatch(schema):
        return ("not a plain schema name (lower-case letters, digits and _, not starting with a "
                "digit, at most 63 characters)")
    if is_system_schema(schema):
        return "a PostgreSQL system schema; name one of the site's own"
    return ""


def is_system_schema(schema: str) -> bool:
    """PostgreSQL's own schemas (it reserves every name starting with ``pg_``)."""
    return schema.lower().startswith("pg_") or schema.lower() == "information_schema"


def is_url(target: object) -> bool:
    """True for a PostgreSQL connection URL, False for a SQLite file path."""
    return isinstance(target, str) and target.split("://", 1)[0] in URL_SCHEMES \
        and "://" in target


def _secret_key(raw: str) -> bool:
    return unquote(raw).strip().lower() in SECRET_PARAMS


def _mask_params(text: str) -> str:
    """``text`` with the value of every secret query parameter (``?password=``) and keyword
    (``password=...``) replaced by ``***``."""
    text = _QUERY_PARAM.sub(
        lambda m: f"{m[1]}{m[2]}=***" if _secret_key(m[2]) else m[0], text)
    if "://" in text:
        return text
    return _KEYWORD_PARAM.sub(
        lambda m: f"{m[1]}{m[2]}***" if _secret_key(m[1]) else m[0], text)


def param_secrets(url: str) -> list[str]:
    """The values of ``url``'s secret parameters, as written and percent-decoded."""
    found = []
    for m in _QUERY_PARAM.finditer(url):
        if _secret_key(m[2]) and m[3]:
            found += [m[3], unquote(m[3])]
    if "://" not in url:
        for m in _KEYWORD_PARAM.finditer(url):
            if _secret_key(m[1]) and m[3]:
                value = m[3]
                found += [value, value.strip("'").replace("\\'", "'").replace("\\\\", "\\")]
    return found


def has_password(url: str) -> bool:
    """Whether ``url`` (a URL or a keyword connection string) carries a password in any form
    libpq reads."""
    return bool(password_pieces(url)) or bool(param_secrets(url))


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs (a CI log is public): the secret
    parameters first (``?password=``, ``password=``), then the userinfo's. A password holding
    an unescaped ``/ # ?`` breaks the URL apart so that urllib finds no password (or no valid
    port): then it is cut out by text, everything between the user's ``:`` and the last ``@``."""
    url = _mask_params(url)
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
    """``text`` with any piece of ``url``'s password (in any form) replaced by ``***``."""
    pieces = {*password_pieces(url), *(p for p in param_secrets(url) if len(p) >= 2)}
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text


def pg_label(url: str, schema: str = "") -> str:
    """A PostgreSQL store as messages name it: the URL without its password, and the schema.
    One spelling, so that a copy can tell a store from its own label."""
    return redact(url) + (f" (schema {schema})" if schema else "")
