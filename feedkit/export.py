"""``feedkit export``: the store as sorted JSON Lines.

The format is the import format, one article per line, sorted by id with a fixed key order, so
the file is byte-identical for the same store and a change to one article is a one-line diff.
That is what lets a CI workflow keep the store in git as text: export at the end of a run,
commit, and rebuild the SQLite file from it (``feedkit import``) at the start of the next.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
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


def export_bytes(store: Store) -> bytes:
    return "".join(export_lines(store)).encode("utf-8")


# -- the digest send log ------------------------------------------------------------------------
# Exported beside the articles so a CI workflow that rebuilds its store every run still knows who
# already got which digest: without it a re-run would mail the whole list again.

_SEND_LOG_FIELDS = ("week", "recipient", "message_id", "status", "attempts", "error",
                    "updated_at")


def export_send_log(store: Store) -> bytes:
    rows = store.db.execute(
        f"SELECT {', '.join(_SEND_LOG_FIELDS)} FROM send_log ORDER BY week, recipient")
    return "".join(json.dumps(dict(zip(_SEND_LOG_FIELDS, row, strict=True)), ensure_ascii=False)
                   + "\n" for row in rows).encode("utf-8")


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
