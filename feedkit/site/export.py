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
from feedkit.store.articles import Store

# Import reads these fields as text that may hold markup and entities ("AT&amp;T", "<b>"), so
# export writes them with &, < and > escaped: "&lt;b&gt; 태그" must come back as "<b> 태그",
# not lose "<b>" to the tag stripper. That is what makes export -> import lossless.
_TEXT_FIELDS = ("title", "summary", "author", "category")


def export_lines(store: Store) -> Iterator[str]:
    """One line per article; a withdrawn one (:mod:`feedkit.editorial.withdrawals`) ends with
    ``"withdrawn": {"at": ..., "reason": ...}``, which import reads back as a withdrawal."""
    from feedkit.editorial.withdrawals import iter_export

    for article, withdrawn in iter_export(store):
        record = article.to_record()
        for name in _TEXT_FIELDS:
            record[name] = html.escape(record[name], quote=False)
        record["tags"] = [html.escape(t, quote=False) for t in record["tags"]]
        if withdrawn is not None:
            record["withdrawn"] = {"at": withdrawn[0], "reason": withdrawn[1]}
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


def export_send_log(store: Store) -> bytes:
    """The send log as JSON lines. Readers appear only as keyed hashes: the file is committed
    to the site repository. A row naming an address (written into the store by hand or by an
    old feedkit around the migration) is hashed here too, or the export refuses."""
    from feedkit.privacy import is_key, recipient_key, scrub, send_secret

    rows = [list(r) for r in store.db.execute(
        f"SELECT {', '.join(_SEND_LOG_FIELDS)} FROM send_log ORDER BY week, recipient")]
    if any(not is_key(r[1]) for r in rows):
        secret = send_secret()
        for r in rows:
            if not is_key(r[1]):
                r[1], r[5] = recipient_key(r[1], secret), scrub(r[5], r[1])
        rows.sort(key=lambda r: (r[0], r[1]))
    return "".join(json.dumps(dict(zip(_SEND_LOG_FIELDS, row, strict=True)), ensure_ascii=False)
                   + "\n" for row in rows).encode("utf-8")


def export_send_log_chunks(store: Store) -> Iterator[bytes]:
    """:func:`export_send_log` as JSON Lines chunks, streamed from the store when every row is
    already a key (the normal case: a year of weekly digests to 5,000 readers is 260,000
    rows); rows that still name an address need hashing and re-sorting, done in memory."""
    from feedkit.privacy import is_key

    if any(not is_key(r[0]) for r in store.stream("SELECT recipient FROM send_log")):
        yield export_send_log(store)
        return
    rows = store.stream(
        f"SELECT {', '.join(_SEND_LOG_FIELDS)} FROM send_log ORDER BY week, recipient")
    yield from _chunked(json.dumps(dict(zip(_SEND_LOG_FIELDS, row, strict=True)),
                                   ensure_ascii=False) + "\n" for row in rows)


def _send_log_row_problem(row: list) -> str:
    """Why a send-log row cannot be stored, or "": every field text except attempts (a whole
    number), and no NUL character, which PostgreSQL cannot hold in text (SQLite would take it,
    so a log imported there could never be copied to PostgreSQL)."""
    for name, value in zip(_SEND_LOG_FIELDS, row, strict=True):
        if name == "attempts":
            if not isinstance(value, int) or isinstance(value, bool):
                return "attempts must be a whole number"
        elif not isinstance(value, str):
            return f"{name} must be a string"
        elif "\x00" in value:
            return f"{name} holds a NUL character"
    return ""


def import_send_log(store: Store, path: Path) -> int:
    """Merge an exported send log into the store; a recipient already marked sent stays sent.

    A log exported by an older feedkit names readers by address: those are hashed on the way
    in (this needs ``$FEEDKIT_SECRET``), so no address lands in the store or the next export.
    """
    from feedkit.errors import check_readable
    from feedkit.privacy import is_key, recipient_key, scrub, send_secret
    from feedkit.store.articles import merge_send_log

    check_readable(path)
    rows = []
    secret: bytes | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            row = [record[k] for k in _SEND_LOG_FIELDS]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise FeedkitError(f"{path}:{number}: not a send-log record ({exc})") from None
        problem = _send_log_row_problem(row)
        if problem:
            raise FeedkitError(f"{path}:{number}: not a send-log record ({problem})")
        if not is_key(row[1]):
            if secret is None:
                try:
                    secret = send_secret()
                except FeedkitError as exc:
                    raise type(exc)(f"{path}:{number}: this send log names readers by address "
                                    f"(an older feedkit wrote it): {exc}") from None
            row[1], row[5] = recipient_key(row[1], secret), scrub(row[5], row[1])
        rows.append(tuple(row))
    with store.transaction():
        merge_send_log(store.db, rows)
    return len(rows)
