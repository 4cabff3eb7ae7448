"""Untrusted record → :class:`~feedkit.model.Article`, in one place.

Every reader (JSONL, CSV, feeds, web pages) hands raw dicts here, so dates, whitespace, URLs and
HTML are cleaned the same way whatever the source. A record that cannot become a valid article
raises :class:`RecordError` with a reason a user can act on; the reader adds ``FILE:LINE``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from feedkit.model import Article
from feedkit.text.clean import (
    SPACES,
    clean_text,
    quote_url,
    sanitize_html,
    strip_illegal,
    truncate,
)

MAX_TITLE = 300
MAX_SUMMARY = 600
DERIVED_SUMMARY = 200


class RecordError(ValueError):
    """A record that cannot be stored; the message says why."""


# ---------------------------------------------------------------------------------------------
# Text

# "… 더보기", "..더보기", "[더보기]", "(더보기)", "더 보기 >" at the very end of a teaser.
_MORE = re.compile(r"(?:\s*[\[(<]?\s*더\s?보기\s*[\])>]?)+\s*$")
_TRAILING_DOTS = re.compile(r"(?:\s*(?:\.{2,}|…))+\s*$")


# Board artefacts around a title: a "new" badge rendered as text ("NEW", "새글", "[새글]") and the
# "..." a list page appends when it cuts a long title. Only whole tokens at either end are removed,
# so a title that merely contains "New" stays intact. The "..." of a cut title becomes one "…"
# (as in summaries): dropping it would leave "송년행사 개" looking like a typo, not a cut.
_TITLE_BADGE_HEAD = re.compile(
    r"^(?:[\[(<]\s*(?:NEW|New|new|새글|새\s글)\s*[\])>]|(?:NEW(?![A-Za-z])|새글(?=\s)))\s*")
_TITLE_BADGE_TAIL = re.compile(
    r"\s*(?:[\[(<]\s*(?:NEW|New|new|새글|새\s글)\s*[\])>]|(?<![A-Za-z])(?:NEW|새글))$")
_CUT = "…"


def _strip_cut_marks(text: str) -> str:
    """``text`` without every trailing "…" or run of three or more dots (and the spaces between):
    all of them, so cleaning twice gives what cleaning once gave. Linear, no regex backtracking."""
    end = len(text)
    while True:
        while end and text[end - 1].isspace():
            end -= 1
        if end and text[end - 1] == _CUT:
            end -= 1
            continue
        start = end
        while start and text[start - 1] == ".":
            start -= 1
        if end - start < 3:
            return text[:end].strip()
        end = start


def clean_title(value: Any) -> str:
    """:func:`clean_text` plus removal of board artefacts: a leading or trailing ``NEW`` /
    ``새글`` badge, and the ``...`` (or ``....``, `` ...``) of a title the list page shortened
    reduced to one "…"."""
    text = clean_text(value)
    cut = False
    for _ in range(3):  # "새글 제목... NEW" has several layers
        before = text
        text = _TITLE_BADGE_HEAD.sub("", text)
        text = _TITLE_BADGE_TAIL.sub("", text)
        if text.endswith(("...", _CUT)):
            text, cut = _strip_cut_marks(text), True
        if text == before:
            break
    return text + _CUT if cut and text else text


def clean_summary(value: Any) -> str:
    """A teaser without the listing's trailing "더보기" ("read more") link text; trailing dots
    that marked a cut become one "…". Cleaning twice gives what cleaning once gave, so an
    exported summary imports unchanged."""
    text = clean_text(value)
    cut = False
    while True:  # "… 더보기", "더보기..더보기": strip until nothing changes
        before = text
        start = max(0, len(text) - 200)  # only the end matters; keep the regex scan short
        if "보기" in text[-12:] and (m := _MORE.search(text, start)):
            text = text[:m.start()]
        if (".." in text[-12:] or "…" in text[-12:]) and (m := _TRAILING_DOTS.search(text, start)):
            text = text[:m.start()]
            cut = True
        if text == before:
            break
    if cut and text:
        text += "…"
    return truncate(text, MAX_SUMMARY)


# ---------------------------------------------------------------------------------------------
# URLs

# The common case, checked without urlsplit: scheme, a plain host, then a path/query or nothing.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::\d{1,5})?(?:[/?#]|$)")


def clean_url(value: Any, base: str = "") -> str:
    """An absolute http(s) URL, or raise. Relative URLs resolve against ``base``; spaces and
    non-ASCII characters are percent-encoded so the result is a valid URI (not only an IRI)."""
    if value is None:
        raise RecordError("missing URL")
    url = strip_illegal(str(value)).strip()
    if not url:
        raise RecordError("missing URL")
    if "&amp;" in url:  # copied out of HTML source without unescaping
        url = html.unescape(url)
    if base:
        url = urljoin(base, url)
    url = quote_url(url)
    if _PLAIN_HTTP_URL.match(url):
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise RecordError(f"invalid URL {_redacted(url)!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise RecordError(f"not an absolute http(s) URL: {_redacted(url)[:200]!r}")
    if "@" in parts.netloc:
        # A password in a public feed is a leak, and readers would send it to the site.
        raise RecordError(f"URL carries a user name or password ({_redacted(url)[:200]!r}); "
                          "feedkit will not publish credentials: link the page without them")
    return url


def _redacted(url: str) -> str:
    """A URL fit for an error message: any ``user:password@`` replaced by ``***@``."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1***@", url)


# ---------------------------------------------------------------------------------------------
# Dates

_PREFIX = re.compile(r"^(?:작성일|등록일|게시일|수정일|날짜|일자|date)\s*[:：]?\s*", re.I)
_NEW_BADGE = re.compile(r"^(?:N|NEW|new|새글)\s*(?=\d)")
# A 12-hour clock's marker, before the time as Korean writes it ("오후 3:20") or after it as
# English does ("3:20 PM").
_AMPM = r"(오전|오후|[AaPp]\.?[Mm]\.?)"
_NUMERIC = re.compile(
    r"^(\d{4}|\d{2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?"
    r"(?:\s*\([^)]*\))?"  # weekday like (화)
    rf"(?:[\sT]+{_AMPM}?\s*(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?(?:\s*{_AMPM})?)?$"
)
# A board cell often holds more than the date ("보도자료 등록 2025-12-10",
# "작성일 : 2025-12-05 17:09 조회 96"): as a last resort, the first full date (four-digit year)
# inside the text is used.
_EMBEDDED = re.compile(
    r"(?<!\d)(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?!\d)\.?"
    r"(?:\s*\([^)]*\))?"
    rf"(?:[\sT]+{_AMPM}?\s*(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?(?!\d)(?:\s*{_AMPM}(?![A-Za-z]))?)?"
)
_BRACKETS = re.compile(r"^[\[(<〔【]\s*(.*?)\s*[\])>〕】]$")
_KOREAN = re.compile(
    r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"
    r"(?:\s*\([^)]*\))?"
    r"(?:\s*(오전|오후)?\s*(\d{1,2})\s*(?:시|:)\s*(?:(\d{1,2})\s*분?)?)?\s*$"
)


def parse_date(value: Any, tz: ZoneInfo) -> datetime:
    """Any common date form → aware datetime in the site's timezone.

    Naive values are read in ``tz`` (a Korean board's "2024-06-11 14:30" is Seoul time); aware
    values keep their instant. Forms: ISO 8601, ``2024.06.11``, ``2024/06/11 14:30``,
    ``24.06.11``, ``2024년 6월 11일 (화) 오후 2시``, RFC 822, board prefixes such as
    ``작성일 : `` and a glued "N"/"NEW" badge; dateutil is the last resort.
    """
    if value is None or value == "":
        raise RecordError("missing date")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raise RecordError(f"ambiguous numeric date {value!r}: give an ISO 8601 string")
    else:
        dt = _parse_date_text(str(value))
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=tz)
    if not 1970 <= dt.year <= 2200:
        raise RecordError(f"implausible date {value!r}")
    return dt.astimezone(tz)


def _parse_date_text(raw: str) -> datetime:
    text = raw.strip()
    if text[:1].isdigit():
        try:  # the common case first: ISO 8601 as exports write it
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    text = SPACES.sub(" ", strip_illegal(text)).strip()
    text = _NEW_BADGE.sub("", _PREFIX.sub("", text))
    m = _BRACKETS.match(text)
    if m:
        text = _NEW_BADGE.sub("", _PREFIX.sub("", m.group(1)))
    if not text:
        raise RecordError("missing date")
    m = _NUMERIC.match(text)
    if m:
        y, mo, d, before, hh, mm, ss, after = m.groups()
        year = int(y) + (2000 if len(y) == 2 else 0)
        return _make(raw, year, mo, d, _hour12(hh, before or after), mm, ss)
    m = _KOREAN.match(text)
    if m:
        y, mo, d, ampm, hh, mm = m.groups()
        return _make(raw, int(y), mo, d, _hour12(hh, ampm), mm, None)
    # RFC 822 ("Tue, 11 Jun 2024 14:30:00 +0900"). Not for a 12-hour time: email.utils would
    # read "12:30 AM" as 12:30 in a time zone called "AM".
    if (re.search(r"[A-Za-z]{3},? ", text) or re.search(r"[+-]\d{4}$|GMT|UTC", text)) and not (
            re.search(r"\d\s*[AaPp]\.?[Mm]\b", text)):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    m = _EMBEDDED.search(text)
    if m:
        y, mo, d, before, hh, mm, ss, after = m.groups()
        return _make(raw, int(y), mo, d, _hour12(hh, before or after), mm, ss)
    return _dateutil(raw, text)


def _hour12(hh: str | None, ampm: str | None) -> str | None:
    """"오후 3:20" / "3:20 PM" → 15; a 12-hour clock's 12 AM (오전 12시) is midnight and its
    12 PM (오후 12시) noon."""
    if hh is None or not ampm:
        return hh
    hour = int(hh)
    pm = ampm == "오후" or ampm[0] in "Pp"
    if pm and hour < 12:
        hour += 12
    elif not pm and hour == 12:
        hour = 0
    return str(hour)


def _make(raw: str, year: int, mo: str, d: str, hh: str | None, mm: str | None,
          ss: str | None) -> datetime:
    try:
        return datetime(year, int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError as exc:
        raise RecordError(f"impossible date {raw.strip()!r} ({exc})") from None


def _dateutil(raw: str, text: str) -> datetime:
    from dateutil import parser

    if not re.search(r"\d{4}", text):  # "June 11" would silently take the current year
        raise RecordError(f"unrecognised date {raw.strip()[:60]!r}")
    try:
        return parser.parse(text)
    except (ValueError, OverflowError, parser.ParserError) as exc:
        reason = "impossible date" if "out of range" in str(exc) else "unrecognised date"
        raise RecordError(f"{reason} {raw.strip()[:60]!r}") from None


# ---------------------------------------------------------------------------------------------
# Records

# Names other tools use for our fields; the first one present wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid"),
    "url": ("url", "link"),
    "title": ("title",),
    "summary": ("summary", "description"),
    "content_html": ("content_html", "content", "body_html", "body"),
    "published": ("published", "date", "pubDate", "pubdate", "created"),
    "updated": ("updated", "modified"),
    "author": ("author",),
    # A board's department is what feedkit calls a category; it wins over a generic "category"
    # column (often just the board name, e.g. 보도자료).
    "category": ("department", "category"),
    "tags": ("tags",),
    "image": ("image", "images"),
    "license": ("license",),
    "image_type": ("image_type",),
}
KNOWN_FIELDS = frozenset(name for names in ALIASES.values() for name in names)


def _pick(record: Mapping[str, Any], field: str) -> Any:
    for name in ALIASES[field]:
        value = record.get(name)
        if value not in (None, "", []):
            return value
    return None


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = re.split(r"[,;|]", value) if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for item in items:
        tag = clean_text(item)
        if tag:
            seen.setdefault(truncate(tag, 80), None)
    return tuple(seen)


def normalize_record(record: Mapping[str, Any], tz: ZoneInfo, default_category: str = "",
                     base_url: str = "", default_license: str = "") -> Article:
    """Build a clean :class:`Article` from a raw mapping, or raise :class:`RecordError`.

    ``base_url`` is where the record was found (a web page); relative article URLs resolve
    against it. Summary falls back to the start of the content, ``updated`` to ``published``,
    ``id`` to the URL. ``default_license``: the source's licence code, for a record that
    names none (:mod:`feedkit.editorial.licenses`).
    """
    if not isinstance(record, Mapping):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    title = clean_title(_pick(record, "title"))
    if not title:
        raise RecordError("missing title")
    title = truncate(title, MAX_TITLE)
    url = clean_url(_pick(record, "url"), base_url)
    published = parse_date(_pick(record, "published"), tz)
    raw_updated = _pick(record, "updated")
    updated = parse_date(raw_updated, tz) if raw_updated is not None else published
    if updated < published:
        updated = published
    raw_id = _pick(record, "id")
    # An id is an opaque key, not text: no markup or entity handling, just no illegal characters.
    article_id = url if raw_id is None or raw_id == url else (
        strip_illegal(str(raw_id)).strip() or url)
    if len(article_id) > 2048:
        raise RecordError("id longer than 2048 characters")
    content = sanitize_html(_pick(record, "content_html"), url)
    summary = clean_summary(_pick(record, "summary"))
    if not summary and content:
        # Through clean_summary too, so a re-import of the stored summary changes nothing.
        summary = truncate(clean_summary(content), DERIVED_SUMMARY)
    image_value = _pick(record, "image")
    if isinstance(image_value, list):
        image_value = image_value[0] if image_value else None
    if isinstance(image_value, Mapping):
        image_value = image_value.get("url") or image_value.get("src")
    image = ""
    if image_value:
        try:
            image = clean_url(image_value, url)
        except RecordError:
            image = ""  # a broken lead image is not worth losing the article for
    return Article(
        id=article_id,
        url=url,
        title=title,
        published=published,
        updated=updated,
        summary=summary,
        content_html=content,
        author=truncate(clean_text(_pick(record, "author")), 200),
        category=truncate(clean_text(_pick(record, "category")), 100) or default_category,
        tags=_tags(_pick(record, "tags")),
        image=image,
        license=_license(_pick(record, "license")) or default_license,
        image_type=_image_type(_pick(record, "image_type")) if image else "",
    )


def _license(value: Any) -> str:
    """A record's own licence code (an export's, or a source that names it per item)."""
    if value is None:   # before the import: most records name no licence
        return ""
    from feedkit.editorial.licenses import problem

    code = str(value).strip()
    why = problem(code)
    if why:
        raise RecordError(f"license: {why}")
    return code


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def _image_type(value: Any) -> str:
    """A remembered media type (``image/jpeg``, or ``-``: no image there), as an export writes
    it (:mod:`feedkit.ingest.images`); anything else is dropped (the next ``update`` asks the
    image's server again)."""
    text = str(value or "").strip().lower()
    return text if text == "-" or _MEDIA_TYPE.fullmatch(text) else ""

