"""The store kept as text between CI runs, and how two versions of it merge.

A site whose CI workflow rebuilds its SQLite store every run keeps what must outlive the run as
five sorted JSON Lines files (README, "Where the store lives between runs"): the articles
(``feedkit export``), the send log, the sources' failure streaks, the editor's decisions and the
unsubscribe list. :func:`export_text` writes them from the store.

While a run works, someone else may push: an editor commits an approval, another tool commits
anything. The run's own files then meet the remote's newer ones, and they merge by feedkit's
rules, file by file, record by record, never by lines of text (:func:`merge_text`):

* the **send log** is a union: a reader marked ``sent`` on either side stays sent (never lose a
  "sent" row: it is what stops the next run from mailing them again); otherwise the newer row
  wins;
* an **editorial decision** (an approval, a note) is newest-wins per week and kind, as
  ``feedkit import --editorial`` merges it;
* the **articles**, the **streaks** and the **unsubscribe list** merge three-way against the
  version the run started from (``base``): what only one side changed is taken from that side;
  what both changed keeps the run's own (it has just fetched the article, or counted the
  source), except that a withdrawal on either side wins (an editor's withdrawal is never
  undone by a fetch) and a reader who left on either side stays left.

The merged files are the export of the store the run would have after importing the remote's
changes: each record is one side's exported line, in export order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from feedkit.errors import FeedkitError

KINDS = ("articles", "send-log", "state", "editorial", "unsubscribed")


@dataclass(frozen=True)
class TextState:
    """Where each text file lives (None: not kept)."""

    articles: Path | None = None
    send_log: Path | None = None
    state: Path | None = None
    editorial: Path | None = None
    unsubscribed: Path | None = None

    def files(self) -> list[tuple[str, Path]]:
        """(kind, path) of every file kept, in :data:`KINDS` order."""
        paths = (self.articles, self.send_log, self.state, self.editorial, self.unsubscribed)
        return [(kind, path) for kind, path in zip(KINDS, paths, strict=True) if path]


def export_text(store, files: TextState) -> list[tuple[str, Path, int, bool]]:
    """Write every file of ``files`` from ``store`` (atomically, untouched when unchanged):
    (kind, path, records, changed) for each."""
    from feedkit.editorial.decisions import export_editorial
    from feedkit.site.export import export_chunks, export_send_log_chunks
    from feedkit.site.output import write_atomic_stream
    from feedkit.store.health import export_state
    from feedkit.store.unsubscribed_table import export_unsubscribed

    makers: dict[str, Callable[[], Iterator[bytes]]] = {
        "articles": lambda: export_chunks(store),
        "send-log": lambda: export_send_log_chunks(store),
        "state": lambda: iter([export_state(store)]),
        "editorial": lambda: iter([export_editorial(store)]),
        "unsubscribed": lambda: iter([export_unsubscribed(store)]),
    }
    done = []
    for kind, path in files.files():
        tally = [0]

        def counted(chunks: Iterator[bytes], tally: list[int] = tally) -> Iterator[bytes]:
            for chunk in chunks:
                tally[0] += chunk.count(b"\n")
                yield chunk

        changed = write_atomic_stream(path, counted(makers[kind]()))
        done.append((kind, path, tally[0], changed))
    return done


# -- merging ------------------------------------------------------------------------------------

Record = str   # one exported line; parsed only where a rule must look inside it


@dataclass(frozen=True)
class _Rule:
    key: Callable[[dict], object]
    three_way: bool
    # both sides changed (three-way) or both have it (two-way): which record stays
    pick: Callable
    # the key of a line as export writes it, without parsing the JSON (None: always parse)
    fast: re.Pattern[str] | None = None
    from_match: Callable[[re.Match[str]], object] | None = None


def _keyed(text: str, where: str, rule: _Rule, memo: dict[str, object], *,
           trusted: bool = False) -> dict[object, Record]:
    """Each line of ``text`` by its record's key. A line is read once however many of the
    three versions hold it (``memo``: line → key): most of a year's send log is the same in
    all three. In a ``trusted`` text (the run's own export) a line gives its key to a regular
    expression, five times quicker than parsing the JSON; every other line is parsed, so a
    broken line from elsewhere is found, not committed."""
    out: dict[object, Record] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        k = memo.get(line)
        if k is None and trusted and rule.fast is not None and (m := rule.fast.match(line)):
            k = rule.from_match(m)
            memo[line] = k
        if k is None:
            key = rule.key
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError("not a JSON object")
                k = key(record)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise FeedkitError(f"{where}:{number}: not a record feedkit wrote ({exc}); fix "
                                   "or remove that line") from None
            memo[line] = k
        out[k] = line
    return out


def _parsed(line: Record) -> dict:
    return json.loads(line)


def _sent_row(line: Record) -> bool:
    return _parsed(line).get("status") == "sent"


def _pick_send_log(ours: Record, theirs: Record) -> Record:
    """Sent wins; otherwise the newer row; a tie keeps ours."""
    o, t = _parsed(ours), _parsed(theirs)
    if (o.get("status") == "sent") != (t.get("status") == "sent"):
        return ours if o.get("status") == "sent" else theirs
    if o.get("status") == "sent":
        return ours
    return theirs if str(t.get("updated_at", "")) > str(o.get("updated_at", "")) else ours


def _pick_newest(ours: Record, theirs: Record) -> Record:
    """The later ``changed_at`` (an editor's decision); a tie keeps ours."""
    later = str(_parsed(theirs).get("changed_at", "")) > str(_parsed(ours).get("changed_at", ""))
    return theirs if later else ours


def _pick_withdrawn(ours: Record | None, theirs: Record | None) -> Record | None:
    """Both sides changed one article: a withdrawal wins (an editor took it back), else the
    run's own (it has just fetched it); one that only one side still has is kept."""
    if ours is None or theirs is None:
        return ours or theirs
    if _parsed(theirs).get("withdrawn") and not _parsed(ours).get("withdrawn"):
        return theirs
    return ours


def _pick_ours_or_present(ours: Record | None, theirs: Record | None) -> Record | None:
    return ours if ours is not None else theirs


_RULES = {
    "articles": _Rule(lambda r: str(r["id"]), True, _pick_withdrawn,
                      re.compile(r'\{"id": "([^"\\]*)", '), lambda m: m[1]),
    "send-log": _Rule(lambda r: (str(r["week"]), str(r["recipient"])), False, _pick_send_log,
                      re.compile(r'\{"week": "([^"\\]*)", "recipient": "([^"\\]*)", '),
                      lambda m: (m[1], m[2])),
    "state": _Rule(lambda r: str(r["source"]), True, _pick_ours_or_present),
    "editorial": _Rule(lambda r: (str(r["week"]), 0 if r["kind"] == "approval" else 1), False,
                       _pick_newest),
    "unsubscribed": _Rule(lambda r: str(r["recipient"]), True, _pick_ours_or_present,
                          re.compile(r'\{"recipient": "([^"\\]*)", '), lambda m: m[1]),
}


def _same(x: Record | None, y: Record | None) -> bool:
    """Whether two versions of a record say the same (not: are spelt the same)."""
    if x == y:
        return True
    return x is not None and y is not None and _parsed(x) == _parsed(y)


def merge_text(kind: str, base: str, ours: str, theirs: str, where: str = "") -> str:
    """The merged file of ``kind`` (one of :data:`KINDS`) from the version the run started
    from (``base``), the run's own (``ours``) and the remote's newer one (``theirs``); see the
    module docstring for each kind's rule. A line that is not a record is an error naming
    ``where`` (the file) and the line."""
    rule = _RULES[kind]
    label = where or kind
    memo: dict[str, object] = {}
    o = _keyed(ours, f"{label} (this run's)", rule, memo, trusted=True)
    b = (_keyed(base, f"{label} (the version this run started from)", rule, memo)
         if rule.three_way else {})
    t = _keyed(theirs, f"{label} (the remote's)", rule, memo)
    merged: dict[object, Record] = {}
    for k in {*o, *t, *b}:
        mine, other = o.get(k), t.get(k)
        if mine == other:
            chosen = mine
        elif rule.three_way:
            was = b.get(k)
            if _same(other, was):
                chosen = mine
            elif _same(mine, was):
                chosen = other
            else:
                chosen = rule.pick(mine, other)
        elif mine is None or other is None:
            chosen = mine or other          # a union: neither side's record is dropped
        else:
            chosen = rule.pick(mine, other)
        if chosen is not None:
            merged[k] = chosen
    return "".join(merged[k].rstrip("\r\n") + "\n" for k in sorted(merged))


def sent_keys(text: str) -> set[tuple[str, str]]:
    """(week, reader key) of every row marked sent in a send-log export."""
    rows = _keyed(text, "send log", _RULES["send-log"], {}, trusted=True)
    return {k for k, line in rows.items() if _sent_row(line)}  # type: ignore[misc]
