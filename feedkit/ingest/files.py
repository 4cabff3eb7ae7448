"""Readers for exported files: JSON Lines, JSON arrays and CSV.

Each reader yields ``(line_number, record_or_error)`` so one broken line is reported as
``FILE:LINE: reason`` and the rest of the file still imports. Files may be UTF-8 with or without
a BOM and with CRLF line ends (what Excel and Windows tools write).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from feedkit.errors import FeedkitError, check_readable

Item = tuple[int, dict[str, Any] | str]  # (line, record) or (line, error message)


def kind_for(path: Path) -> str:
    """The reader for a file, from its extension (``.jsonl``/``.ndjson``, ``.json``, ``.csv``)."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".jsonlines"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    raise FeedkitError(f"{path}: unknown file type {suffix or '(none)'!r}; "
                       "expected .jsonl, .json or .csv")


def read_records(path: Path, kind: str | None = None) -> Iterator[Item]:
    kind = kind or kind_for(path)
    check_readable(path)
    if kind == "jsonl":
        return _jsonl(path)  # streamed: a 100k-line export never sits in memory whole
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if kind == "json":
        return _json(path, data)
    if kind == "csv":
        return _csv(path, data)
    raise FeedkitError(f"{path}: unknown file kind {kind!r}")


def count_records(path: Path, kind: str | None = None) -> int | None:
    """Lines in a JSON Lines file (cheap: counted in blocks), for a progress total; None for
    other kinds or unreadable files (the import itself reports those)."""
    try:
        if (kind or kind_for(path)) != "jsonl":
            return None
        with path.open("rb") as fh:
            return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    except (OSError, FeedkitError):
        return None


def _jsonl(path: Path) -> Iterator[Item]:
    with path.open("rb") as fh:
        yield from _jsonl_lines(fh)


def _jsonl_lines(lines: Iterable[bytes]) -> Iterator[Item]:
    for number, raw in enumerate(lines, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, f"not valid UTF-8 (byte {exc.start + 1})"
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, f"broken JSON: {exc.msg} (column {exc.colno})"
            continue
        if not isinstance(value, dict):
            yield number, f"expected a JSON object, got {type(value).__name__}"
            continue
        yield number, value


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FeedkitError(f"{path}:{line}: not valid UTF-8; save the file as UTF-8") from None


def _json(path: Path, data: bytes) -> Iterator[Item]:
    """A top-level array of objects (or one object, or ``{"items": [...]}`` as JSON Feed has).

    Elements are decoded one by one so each error and record knows its own line number.
    """
    text = _decode(path, data)
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos < len(text) and text[pos] == "{":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FeedkitError(f"{path}:{exc.lineno}: broken JSON: {exc.msg}") from None
        items = obj.get("items") if isinstance(obj.get("items"), list) else [obj]
        for item in items:
            yield 1, item if isinstance(item, dict) else "expected a JSON object"
        return
    if pos >= len(text) or text[pos] != "[":
        raise FeedkitError(f"{path}:1: expected a JSON array of objects")
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # Without a parsed element we cannot know where the next one starts: stop here.
            raise FeedkitError(f"{path}:{exc.lineno}: broken JSON: {exc.msg}; records after "
                               "this point were not read") from None
        yield line, value if isinstance(value, dict) else (
            f"expected a JSON object, got {type(value).__name__}")
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        elif pos < len(text) and text[pos] == "]":
            return
        else:
            line = text.count("\n", 0, pos) + 1
            raise FeedkitError(f"{path}:{line}: broken JSON: expected ',' or ']'")


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _csv(path: Path, data: bytes) -> Iterator[Item]:
    text = _decode(path, data)
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FeedkitError(f"{path}:1: unreadable CSV header: {exc}") from None
    names = [h.strip() for h in header]
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"unreadable CSV row: {exc}"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(names):
            yield line, f"{len(row)} cells but the header names {len(names)} columns"
            continue
        yield line, {name: cell for name, cell in zip(names, row, strict=False) if name}
