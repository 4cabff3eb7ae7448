"""Value checks for URIs, MIME types and language codes (each returns the W3C code of the
failure, or None when the value is fine), and URI canonicalisation."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

from feedkit.validate.vocab import _IANA_SCHEMES, _ISO639_1

_URI_CHAR = re.compile(r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]")
_FULL_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+\Z")
_REL_URI = re.compile(
    r"([a-zA-Z][0-9a-zA-Z+\-.]*:)?/{0,2}(\[[0-9A-Fa-f:]+\])?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]*\Z")
_TAG_URI = re.compile(
    r"tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?\Z")
_URN = re.compile(r"[Uu][Rr][Nn]:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'\-]"
                  r"|%[0-9A-Fa-f]{2})+\Z")
_UUID_URN = re.compile(r"[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-"
                       r"[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\Z")
_HTTP_URL = re.compile(
    r"https?://(([0-9]{1,3}\.){3}[0-9]{1,3}|([A-Z0-9\-]+\.)+[A-Z0-9][-A-Z0-9]*)(:\d+)?(/|\Z)",
    re.IGNORECASE)
_MIME_TOKEN = r"[^\s()<>,;:\\\"/\[\]?=]+"
_MIME = re.compile(
    rf"{_MIME_TOKEN}/{_MIME_TOKEN}(\s*;\s*{_MIME_TOKEN}=(\"(\\\"|[^\"])*\"|{_MIME_TOKEN}))*\Z")
_EMAIL = re.compile(
    r"[A-Z0-9_\-+.']+@(([0-9]{1,3}\.){3}|([A-Z0-9\-]+\.)+)[A-Z0-9][-A-Z0-9]*\Z", re.IGNORECASE)
_SIMPLE_EMAIL = re.compile(r"[\w.%+-]+@[A-Za-z][\w.-]+\Z")


def _uri_problem(value: str, full: bool, error: str) -> str | None:
    """Check one URI (reference) the way the W3C ``rfc2396``/``rfc2396_full`` rules do.

    ``full`` demands a scheme (an absolute URI). ``tag:`` and ``urn:`` get their own grammars;
    ``http``/``https``/``ftp`` need ``scheme://host``. Non-ASCII is not a URI character: an IRI
    where a URL is expected is ``UriNotIri`` — so Korean path segments must be percent-encoded.
    """
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme == "tag":
        return None if _TAG_URI.match(value) else "InvalidTAG"
    if scheme == "urn":
        if value.lower().startswith("urn:uuid:") and not _UUID_URN.match(value):
            return "InvalidUUID"
        return None if _URN.match(value) else "InvalidURN"
    pattern = _FULL_URI if full else _REL_URI
    if not pattern.match(value):
        for ch in value:
            if ord(ch) < 128 and not _URI_CHAR.match(ch):
                return "InvalidUriChar"
        if any(ord(ch) >= 128 for ch in value):
            return "UriNotIri"
        return error
    if scheme in ("http", "https", "ftp") and not re.match(r"\w+://[^/]", value):
        return error
    if scheme and scheme.isalpha() and scheme not in _IANA_SCHEMES:
        return "SchemeNotIANARegistered"
    return None


def _iri_to_uri(value: str) -> str:
    """Percent-encode the non-ASCII characters of an IRI (RFC 3987 section 3.1)."""
    if value.isascii():
        return value
    return "".join(ch if ord(ch) < 128 else quote(ch, safe="") for ch in value)


def _is_http_url(value: str) -> bool:
    return bool(_HTTP_URL.match(value)) and bool(_FULL_URI.match(value))


def _mime_ok(value: str) -> bool:
    return bool(_MIME.match(value))


def _language_ok(value: str) -> bool:
    """ISO 639 primary subtag, as the W3C check does (3-letter codes are accepted unchecked)."""
    primary = value.split("-", 1)[0].lower()
    if primary in _ISO639_1:
        return True
    return len(primary) == 3 and primary.isascii() and primary.isalpha()


_UNRESERVED_SUBDELIMS_PCHAR = "-._~!$&'()*+,;=:@"
_DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21}
_URI_PARTS = re.compile(r"(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?\Z", re.S)


def _requote(part: str, safe: str) -> str:
    """Decode every %XX and re-encode with ``safe``: the canonical spelling of a component."""
    if not re.fullmatch(r"([^%]|%[0-9A-Fa-f]{2})*", part):
        raise ValueError(part)
    decoded = unquote(part, errors="strict")
    return quote(unicodedata.normalize("NFC", decoded), safe=safe)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1 or (out and out[0]):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def canonical_uri(value: str) -> str | None:
    """RFC 3986 normal form (lower-case scheme/host, no default port, ``/`` for an empty path,
    no dot segments, one spelling per character). ``None`` for a relative or broken reference.

    The W3C validator warns ``NonCanonicalURI`` when an Atom ``id`` differs from this, and uses it
    to compare a ``self`` link with the document's location. Note ``https://example.org`` is not
    canonical: it needs the trailing slash.
    """
    m = _URI_PARTS.match(value)
    if not m or m.group(2) is None:
        return None
    scheme = m.group(2).lower()
    try:
        if m.group(3) is not None:
            auth = m.group(4)
            userinfo, _, hostport = auth.rpartition("@")
            host, port = hostport.lower(), ""
            pm = re.search(r":(\d*)\Z", host)
            if pm:
                host, port = host[: pm.start()], pm.group(1)
            if host.endswith(".") and host.count(".") > 1:
                host = host[:-1]
            if port and int(port) != _DEFAULT_PORT.get(scheme):
                host = f"{host}:{int(port)}"
            authority = f"{userinfo}@{host}" if userinfo and userinfo != ":" else host
            path = _remove_dot_segments(m.group(5)) or "/"
            path = "/".join(_requote(seg, _UNRESERVED_SUBDELIMS_PCHAR) for seg in path.split("/"))
            result = f"{scheme}://{authority}{path}"
        else:
            result = f"{scheme}:{_requote(m.group(5), _UNRESERVED_SUBDELIMS_PCHAR + '/')}"
        if m.group(6) is not None:
            result += "?" + _requote(m.group(7), _UNRESERVED_SUBDELIMS_PCHAR + "/?")
        if m.group(8) is not None:
            result += "#" + _requote(m.group(9), _UNRESERVED_SUBDELIMS_PCHAR + "/?")
    except (ValueError, UnicodeError):
        return None
    return result


def _same_uri(a: str, b: str) -> bool:
    ca, cb = canonical_uri(_iri_to_uri(a)), canonical_uri(_iri_to_uri(b))
    return ca is not None and ca == cb
