"""Cleaning text and HTML: what every reader and the digest share.

Plain text on one line without invisible or XML-illegal characters, a cut at a word boundary,
URLs percent-encoded to valid URIs, and article HTML through an allow-list sanitiser with every
link made absolute. The readers (:mod:`feedkit.ingest.normalize`) clean each record with these,
and the digest cuts summaries and sanitises the editor's note with the same code, so a note and
an article cannot be cleaned by two different rules. Imports only :mod:`nh3` and the standard
library: any stage may use it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urljoin

import nh3

# ---------------------------------------------------------------------------------------------
# Text

# XML 1.0 forbids C0 controls except TAB/LF/CR, lone surrogates and U+FFFE/U+FFFF; the feed
# validator also flags DEL and C1 controls. Invisible format characters that only ever cause
# trouble in titles are dropped too (ZWJ/ZWNJ are kept: scripts and emoji need them).
_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\u200b\u2060\ufeff\u00ad\u180e]"
)
SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
def strip_illegal(text: str) -> str:
    """Remove characters that XML cannot carry or that are invisible noise."""
    if text.isprintable():  # C-speed check: no controls, format characters or odd spaces
        return text
    return _ILLEGAL.sub("", text)


def clean_text(value: Any) -> str:
    """Plain text on one line: NFC, no markup, no entities, no control or invisible characters,
    whitespace (including NBSP and ideographic space) collapsed."""
    if value is None:
        return ""
    text = str(value)
    if "<" in text or "&" in text:
        # Drop any markup but keep the text, then turn entities into characters. Illegal
        # characters go first, so what the HTML parser sees is what a re-import would see.
        text = strip_illegal(text)
        if "<" in text:
            text = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
        text = html.unescape(text)
    if text.isprintable():  # no controls, newlines, NBSPs or invisible characters to handle
        text = unicodedata.normalize("NFC", text)
        return SPACES.sub(" ", text).strip() if "  " in text else text.strip()
    text = unicodedata.normalize("NFC", _ILLEGAL.sub("", text))
    return SPACES.sub(" ", text).strip()

def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary before ``limit`` characters and mark the cut with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:·") + "…"


# ---------------------------------------------------------------------------------------------
# URLs

# What may stay as it is after the authority: RFC 3986 reserved and unreserved characters,
# except "[" and "]" (allowed only around an IPv6 host: board.php?cat[]=3 must become
# cat%5B%5D=3, or the W3C validator and `feedkit validate` reject it as InvalidUriChar).
_URL_SAFE = ":/?#@!$&'()*+,;=%~"
_AUTHORITY_SAFE = _URL_SAFE + "[]"
_SCHEME_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
def quote_url(url: str) -> str:
    """Percent-encode what a URI may not contain (spaces, non-ASCII, ``[ ] { } | ^ \\``, a ``%``
    that starts no escape), leaving escapes and the reserved characters that give the URL its
    structure. Idempotent: a quoted URL comes back unchanged."""
    m = _SCHEME_AUTHORITY.match(url)
    head = m.group(0) if m else ""
    rest = _LONE_PERCENT.sub("%25", url[len(head):])
    return quote(head, safe=_AUTHORITY_SAFE) + quote(rest, safe=_URL_SAFE)

# ---------------------------------------------------------------------------------------------
# HTML

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "abbr": {"title"},
}


_CLEANER: nh3.Cleaner | None = None


def _cleaner() -> nh3.Cleaner:
    # Built once: constructing the sanitiser's rules costs more than cleaning a typical article.
    global _CLEANER
    if _CLEANER is None:
        _CLEANER = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            clean_content_tags={"script", "style", "template", "noscript", "iframe", "object"},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )
    return _CLEANER


_ORIGIN = re.compile(r"^https?://[^/?#]+")
# Text outside tags that is not just whitespace or no-break spaces.
_HAS_TEXT = re.compile(r"(?:^|>)(?:\s|&nbsp;|&#160;|&#xa0;)*(?:[^\s<&]|&(?!nbsp;|#160;|#xa0;))")


# A URL quote_url leaves as it is: nothing to encode, no "%" that starts no escape, no quote
# or "&" that html.escape would change.
_QUOTED_URL = re.compile(r"[A-Za-z0-9._~:/?#@!$()*+,;=-]*")


def _absolutize(head: str, value: str, base: str, origin: str) -> str:
    """``head`` (`` href="``) + ``value`` + ``"``, the value made absolute."""
    if value.startswith(("https://", "http://", "mailto:")):
        return f'{head}{value}"'
    raw = html.unescape(value)
    if origin and raw.startswith("/") and not raw.startswith("//") and "/." not in raw:
        absolute = origin + raw  # the common case (root-relative), without urljoin's cost
    else:
        absolute = urljoin(base, raw)
    if _QUOTED_URL.fullmatch(absolute):   # e.g. /files/a.hwp: nothing to encode or escape
        return f'{head}{absolute}"'
    return f'{head}{html.escape(quote_url(absolute), quote=True)}"'


def _absolute_urls(text: str, base: str, origin: str) -> str:
    """Every ``href="…"`` and ``src="…"`` after white space made absolute: what a substitution
    of ``(\\s(?:href|src)=")([^"]*)"`` would do, match for match, found with ``str.find`` (an
    article's one link cost that regex 8 µs of scanning Hangul text for white space)."""
    out: list[str] = []
    done = start = 0
    while True:
        h, s = text.find('href="', start), text.find('src="', start)
        k = min(h, s) if h >= 0 and s >= 0 else max(h, s)
        if k < 0:
            break
        if k == 0 or not text[k - 1].isspace():
            start = k + 1
            continue
        value_at = k + (6 if k == h else 5)
        close = text.find('"', value_at)
        if close < 0:   # no closing quote here, so none after either
            break
        out.append(text[done:k - 1])
        out.append(_absolutize(text[k - 1:value_at], text[value_at:close], base, origin))
        done = start = close + 1
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def sanitize_html(value: Any, base: str) -> str:
    """Allow-list sanitising (no script, iframe, form, style, event handlers, ``javascript:``),
    with every relative link and image made absolute against the article's URL, because feed
    readers and mail clients ignore ``xml:base`` and have no page to resolve against."""
    if not value:
        return ""
    cleaned = _cleaner().clean(strip_illegal(str(value)))
    # The sanitiser serialises attributes as name="value", so this pattern sees every URL.
    if ' href="' in cleaned or ' src="' in cleaned:
        origin_match = _ORIGIN.match(base)
        origin = origin_match.group(0) if origin_match else ""
        cleaned = _absolute_urls(cleaned, base, origin)
    cleaned = unicodedata.normalize("NFC", cleaned).strip()
    # Markup with no text and no image (e.g. "<p>&nbsp;</p>") is no content.
    if "<img" not in cleaned and not _HAS_TEXT.search(cleaned):
        return ""
    return cleaned
