"""``kind = "feed"`` sources: an RSS / Atom feed (URL or file) → raw records.

feedparser does the parsing because real government feeds are rarely valid: it recovers entries
from truncated or malformed XML and maps RSS, Atom and RDF onto one shape. Its *date* parsing is
not used as is: a Korean WordPress feed writes ``<pubDate>2024-10-02 16:34:34</pubDate>`` with no
zone, which feedparser reads as UTC (nine hours off). The raw string goes to
:func:`~feedkit.ingest.normalize.parse_date` instead, which reads a naive time in the site's
timezone; feedparser's own result is only a fallback for forms we do not know.

Korean government feed habits handled here: the department in ``dc:creator`` (becomes the
article's category, see ``department_from``), several ``<category>`` elements (tags), the
non-standard ``<upDate>`` element (the updated time), GUIDs that are not permalinks (kept as ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from feedkit.config import SourceConfig
from feedkit.errors import FeedkitError
from feedkit.ingest.charset import detect_encoding
from feedkit.ingest.fetch import Fetcher
from feedkit.ingest.normalize import RecordError, parse_date


@dataclass
class FeedResult:
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (where, record)
    warnings: list[str] = field(default_factory=list)
    not_modified: bool = False
    base_url: str = ""


def read_feed_source(src: SourceConfig, fetcher: Fetcher | None, tz: ZoneInfo,
                     path: Path | None = None, *, full: bool = False) -> FeedResult:
    """Fetch (or read) and parse one feed. Raises :class:`FeedkitError` if nothing usable came
    back; a feed that is broken but still yields entries only warns."""
    result = FeedResult()
    if path is not None:
        where = str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FeedkitError(f"{path}: no such file") from None
        except OSError as exc:
            raise FeedkitError(f"{path}: cannot read: {exc.strerror}") from None
        headers = {"content-type": "application/xml"}
        result.base_url = src.url
    else:
        assert fetcher is not None
        response = fetcher.get(src.url, conditional=not full)
        where = response.url
        if response.not_modified:
            result.not_modified = True
            return result
        data = response.body
        headers = {"content-type": response.headers.get("Content-Type") or "application/xml"}
        result.base_url = response.url
    codec = _codec_for(data, headers["content-type"], src.encoding)
    if codec not in ("utf-8", "utf-16"):
        # feedparser would read "euc-kr" strictly and choke on CP949-only syllables; our rules
        # (override, HTTP, XML prolog, detection; EUC-KR read as CP949) decide instead.
        data, headers = _transcode(data, codec, where)
    if result.base_url:
        headers["content-location"] = result.base_url
    parsed = feedparser.parse(data, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=True)
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception") or "unknown problem"
        raise FeedkitError(f"{where}: not a readable RSS/Atom feed ({reason})")
    if not parsed.get("version") and not parsed.entries:
        raise FeedkitError(f"{where}: not an RSS/Atom feed")
    if parsed.bozo:
        result.warnings.append(f"{where}: malformed feed ({parsed.get('bozo_exception')}); "
                               f"read {len(parsed.entries)} entries anyway")
    for n, entry in enumerate(parsed.entries, 1):
        result.records.append((f"{where} entry {n}", entry_record(entry, src, tz)))
    return result


def _codec_for(data: bytes, content_type: str, override: str) -> str:
    from email.message import Message

    msg = Message()
    msg["Content-Type"] = content_type
    return detect_encoding(data, (msg.get_content_charset() or ""), override)


def _transcode(data: bytes, encoding: str, where: str) -> tuple[bytes, dict[str, str]]:
    """Honour a configured charset over whatever the feed declares."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FeedkitError(f"{where}: cannot decode as {encoding}: {exc}") from None
    text = re.sub(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""", r"\1", text,
                  count=1)
    return text.encode("utf-8"), {"content-type": "application/xml; charset=utf-8"}


def _date(entry: Any, *names: str, tz: ZoneInfo) -> str | datetime | None:
    """The first of ``names`` the entry really has (no feedparser fallbacks), as its raw string;
    if our parser cannot read it but feedparser could, feedparser's reading (UTC)."""
    for name in names:
        if name not in entry:
            continue
        raw = entry[name]
        if not raw:
            continue
        try:
            parse_date(raw, tz)
            return raw
        except RecordError:
            parsed = entry.get(f"{name}_parsed")
            if parsed:
                return datetime(*parsed[:6], tzinfo=UTC)
            return raw   # let normalisation report it
    return None


def entry_record(entry: Any, src: SourceConfig, tz: ZoneInfo) -> dict[str, Any]:
    """One feedparser entry → the record shape :func:`normalize_record` reads."""
    tags = [t.get("term") or t.get("label") for t in entry.get("tags", [])]
    tags = [t for t in tags if t]
    author = entry.get("author") or ""
    if src.department_from == "author":
        department = author
    elif src.department_from == "category":
        department = tags[0] if tags else ""
    else:
        department = ""
    content = ""
    for part in entry.get("content", []):
        value = part.get("value") or ""
        if len(value) > len(content):
            content = value
    link = entry.get("link") or ""
    guid = entry.get("id") or ""
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    summary = entry.get("summary") or ""
    if content and summary.strip() == content.strip():
        summary = ""   # Atom with only <content>: let the teaser be derived from it
    return {
        "id": guid or link,
        "url": link,
        "title": entry.get("title") or "",
        "published": _date(entry, "published", "created", "updated", "update", tz=tz),
        "updated": _date(entry, "updated", "update", tz=tz),
        "summary": summary,
        "content_html": content,
        "author": author,
        "department": department,
        "tags": tags,
        "image": _image(entry),
    }


def _image(entry: Any) -> str:
    for thumb in entry.get("media_thumbnail", []):
        if thumb.get("url"):
            return thumb["url"]
    for media in entry.get("media_content", []):
        kind = media.get("medium") or media.get("type") or ""
        if media.get("url") and kind.startswith("image"):
            return media["url"]
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and (link.get("type") or "").startswith("image/"):
            return link.get("href") or ""
    return ""
