"""One key per article address: what withdrawals and duplicate detection compare.

The same article reaches feedkit under several spellings: ``http://`` and ``https://``, an
upper-case host, an explicit default port, a ``#fragment``, a newsletter's ``utm_*`` tags, a
percent-escape of a plain letter (``%49`` is ``I``). Compared as text, each spelling was a new
article: a withdrawn one came back under another, a source that moved to https published every
article twice. :func:`url_key` maps them to one key, and must never map two *different* pages
to one (a merged article would hide one of them), so it only undoes what cannot change which
page the server sends:

* the scheme: ``http`` and ``https`` give one key (a city site serves the same page on both; a
  port that is the scheme's default, 80 or 443, is dropped first, any other port is kept);
* the host: lower case, its IDNA (``xn--``) form, no trailing dot (RFC 3986 6.2.2.1, DNS);
* percent-escapes (RFC 3986 6.2.2.2): those of unreserved characters (letters, digits,
  ``- . _ ~``) decoded, the rest written with upper-case hex; characters a URI may not hold
  (non-ASCII, spaces) percent-encoded as UTF-8, as browsers send them. Reserved characters
  keep their escapes (``%2F`` is not ``/``), ``+`` is not ``%20``;
* the fragment: dropped (it never reaches the server);
* the query: parameters whose name starts with ``utm_`` and the ad click ids (``fbclid``,
  ``gclid``, ...) dropped, the others kept *in their order* (``?a=1&a=2`` and ``?a=2&a=1``
  may be different pages); an empty query is no query;
* an empty path is ``/``.

Left as they are, because they can name another page: the path's case, a trailing slash, a
``www.`` prefix, a port other than the default, the user info, dot segments.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote, unquote, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left alone in a path or query (RFC 3986 reserved + unreserved, and % of escapes).
_KEEP = "!$&'()*+,;=:@/?%-._~"
TRACKING = frozenset({"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
                      "mc_cid", "mc_eid"})
"""Click ids ad and mail services append; with ``utm_*`` dropped from the key's query."""


def _escapes(text: str) -> str:
    """Percent-encoding in one spelling: unreserved escapes decoded, others upper-case hex,
    what a URI cannot hold encoded."""
    def one(m: re.Match) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE.sub(one, quote(text, safe=_KEEP))


def _tracking(param: str) -> bool:
    name = unquote(param.split("=", 1)[0]).strip().lower()
    return name.startswith("utm_") or name in TRACKING


# Most URLs are already in key form after the scheme: a lower-case host, no port, no escape,
# no fragment, nothing a URI may not hold, no tracking parameter. Those skip urlsplit (a key
# costs ~2 us instead of ~40 us: an import of 20,000 articles computes 20,000 keys).
_PLAIN = re.compile(r"https?://([a-z0-9][a-z0-9.-]*[a-z0-9])(/[A-Za-z0-9/._~!$&'()*+,;=:@-]*)?"
                    r"(?:\?([A-Za-z0-9/._~!$'()*+,;=:@?-]+(?:&[A-Za-z0-9/._~!$'()*+,;=:@?-]+)*))?")
_TRACKING_HINT = re.compile(r"(?:^|&)(?:utm_|" + "|".join(sorted(TRACKING)) + r")",
                            re.IGNORECASE)


def url_key(url: str) -> str:
    """The key of an http(s) URL (see the module docstring): ``//host[:port]/path[?query]``.
    Anything that is not an http(s) URL is its own key."""
    plain = _PLAIN.fullmatch(url)
    if plain is not None and not (plain[3] and _TRACKING_HINT.search(plain[3])):
        host, path, query = plain.groups()
        return f"//{host}{path or '/'}" + (f"?{query}" if query else "")
    return parsed_key(url)


def parsed_key(url: str) -> str:
    """:func:`url_key` the long way, for every URL (what its quick path must agree with): from
    the URL as feedkit writes configured ones (lower-case scheme and host, no default port:
    :func:`feedkit.config.load.canonical_url`), then what only the key folds."""
    from feedkit.config.load import canonical_url

    try:
        parts = urlsplit(canonical_url(url.strip()))
        port = parts.port   # a default one is gone already
    except ValueError:
        return url
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = "&".join(_escapes(p) for p in parts.query.split("&") if p and not _tracking(p))
    return f"//{netloc}{_escapes(parts.path) or '/'}" + (f"?{query}" if query else "")
