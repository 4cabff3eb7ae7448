"""``feedkit export``: the store as sorted JSON Lines.

The format is the import format, one article per line, sorted by id with a fixed key order, so
the file is byte-identical for the same store and a change to one article is a one-line diff.
That is what lets a CI workflow keep the store in git as text: export at the end of a run,
commit, and rebuild the SQLite file from it (``feedkit import``) at the start of the next.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.store import Store

# Import reads these fields as text that may hold markup and entities ("AT&amp;T", "<b>"), so
# export writes them with &, < and > escaped: "&lt;b&gt; 태그" must come back as "<b> 태그",
# not lose "<b>" to the tag stripper. That is what makes export -> import lossless.
_TEXT_FIELDS = ("title", "summary", "author", "category")


def export_lines(store: Store) -> Iterator[str]:
    for article in store.iter_all():
        record = article.to_record()
        for name in _TEXT_FIELDS:
            record[name] = html.escape(record[name], quote=False)
        record["tags"] = [html.escape(t, quote=False) for t in record["tags"]]
        yield json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def export_chunks(store: Store) -> Iterator[bytes]:
    """The export as UTF-8 chunks of about 64 KiB: written as they are read from the
    store, so memory stays flat however many articles it holds (200,000 articles are ~1 GB
    as one string)."""
    return _chunked(export_lines(store))


def export_bytes(store: Store) -> bytes:
    return b"".join(export_chunks(store))


def _chunked(lines: Iterable[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """Lines joined into chunks of about ``size`` characters (fewer, larger writes)."""
    batch: list[str] = []
    length = 0
    for line in lines:
        batch.append(line)
        length += len(line)
        if length >= size:
            yield "".join(batch).encode("utf-8")
            batch.clear()
            length = 0
    if batch:
        yield "".join(batch).encode("utf-8")


# -- the digest send log ------------------------------------------------------------------------
# Exported beside the articles so a CI workflow that rebuilds its store every run still knows who
# already got which digest: without it a re-run would mail the whole list again.

_SEND_LOG_FIELDS = ("week", "recipient", "message_id", "status", "attempts", "error",
                    "updated_at")


def export_send_log_chunks(store: Store) -> Iterator[bytes]:
    """The send log as JSON Lines chunks (a year of weekly digests to 5,000 readers is 260,000
    rows: streamed like the articles)."""
    rows = store.db.execute(
        f"SELECT {', '.join(_SEND_LOG_FIELDS)} FROM send_log ORDER BY week, recipient")
    return _chunked(json.dumps(dict(zip(_SEND_LOG_FIELDS, row, strict=True)), ensure_ascii=False)
                    + "\n" for row in rows)


def export_send_log(store: Store) -> bytes:
    return b"".join(export_send_log_chunks(store))


def import_send_log(store: Store, path: Path) -> int:
    """Merge an exported send log into the store; a recipient already marked sent stays sent."""
    from feedkit.ingest.files import check_readable

    check_readable(path)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            rows.append(tuple(record[k] for k in _SEND_LOG_FIELDS))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise FeedkitError(f"{path}:{number}: not a send-log record ({exc})") from None
    with store.transaction():
        store.db.executemany(
            f"INSERT INTO send_log ({', '.join(_SEND_LOG_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (week, recipient) DO UPDATE SET message_id = excluded.message_id, "
            "status = excluded.status, attempts = excluded.attempts, error = excluded.error, "
            "updated_at = excluded.updated_at WHERE send_log.status != 'sent'", rows)
    return len(rows)
