"""The digest archive's weeks, counted once and then kept up to date from what changed.

For each week that has articles the archive needs their number, a digest of their ids and
content hashes (its page is rendered again only when that moves) and the three newest
headlines (the archive index). The store keeps these (:mod:`feedkit.store.archive_table`), and
notes the hour of every article written since; a build recounts only the weeks those hours
fall in. So a build after an import of today's news, or after one withdrawal, reads one or two
weeks of articles, not the whole store (a million rows at a province's scale, issue 26).

The weeks are counted in the site's timezone, without the departments ``[categories]`` keeps
out of the digest, and with every article however far in the future (the archive shows only
the weeks that ended before the build, :func:`feedkit.site.archive.plan_archive`): the count is
kept for one such configuration, named by the fingerprint the build passes. A build under
another one counts every week again, reading the articles once, in storage order, with memory
for one week's tally per week, never for the articles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from feedkit.config import Config
from feedkit.digest.week import Week
from feedkit.store import archive_table
from feedkit.store.archive_table import HOUR

_MASK = (1 << 128) - 1


@dataclass(frozen=True)
class WeekSummary:
    """One week of the archive, as kept in the store."""

    label: str                       # ISO week, "2024-W24"
    count: int                       # articles the digest shows
    digest: str                      # of their content hashes: what the page shows
    headlines: tuple[str, ...]       # the three newest titles, newest first


def _number(id_: str, hash_: str) -> int:
    """An article as a number: its content hash, which covers every field, the id included
    (a hash that is not hex, written by hand into a store, is hashed with the id)."""
    try:
        return int(hash_, 16)
    except ValueError:
        return int.from_bytes(hashlib.blake2b(f"{len(id_)}:{id_}{hash_}".encode(),
                                              digest_size=16).digest(), "big")


class _Tally:
    """One week being counted: the order of the rows does not matter (the sum of the
    articles' content hashes, and the newest three kept aside), so the store can be read as it
    lies."""

    __slots__ = ("count", "top", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.top: list[tuple[int, str, str]] = []   # (published_ts, id, title), newest first

    def add(self, id_: str, hash_: str, ts: int, title: str) -> None:
        self.count += 1
        self.total = (self.total + _number(id_, hash_)) & _MASK
        top = self.top
        if len(top) < 3 or (ts, id_) > top[-1][:2]:
            top.append((ts, id_, title))
            top.sort(reverse=True)
            del top[3:]

    def row(self, label: str) -> tuple[str, int, str, str]:
        return (label, self.count, f"{self.total:032x}",
                json.dumps([t for _, _, t in self.top], ensure_ascii=False))


def _week_finder(tz: ZoneInfo) -> Callable[[int], str]:
    """Unix seconds -> ISO week label in ``tz``. Each week's span of seconds is worked out
    once and found again through the (UTC) day of the second; a week whose span is not exact
    (a zone that skips a local midnight) is never taken from the span, only looked up."""
    by_day: dict[int, list[tuple[int, int, str]]] = {}
    spans: dict[str, tuple[int, int, str] | None] = {}

    def label(ts: int) -> str:
        for start, end, name in by_day.get(ts // 86400, ()):
            if start <= ts < end:
                return name
        week = Week.of_timestamp(ts, tz)
        name = week.label
        if name not in spans:
            start, end = _unix(week.start), _unix(week.end)
            inside = (Week.of_timestamp(t, tz).label for t in (start, end - 1))
            outside = (Week.of_timestamp(t, tz).label for t in (start - 1, end))
            exact = all(n == name for n in inside) and all(n != name for n in outside)
            spans[name] = (start, end, name) if exact else None
        span = spans[name]
        if span is not None:
            by_day.setdefault(ts // 86400, []).append(span)
        return name

    return label


def _visible(config: Config) -> Callable[[str], bool]:
    """Whether the digest shows a department (``[categories]`` exclude_from_digest)."""
    from feedkit.editorial.categories import category_map

    cmap = category_map(config)
    if not cmap:
        return lambda _category: True
    seen: dict[str, bool] = {}

    def visible(category: str) -> bool:
        answer = seen.get(category)
        if answer is None:
            answer = seen[category] = cmap.in_digest(category)
        return answer

    return visible


def tally(config: Config, rows: Iterable[tuple[str, str, int, str, str]]
          ) -> dict[str, _Tally]:
    """``(id, hash, published_ts, title, category)`` rows counted by week."""
    week_of, visible = _week_finder(config.tz), _visible(config)
    weeks: dict[str, _Tally] = {}
    for id_, hash_, ts, title, category in rows:
        if not visible(category):
            continue
        label = week_of(ts)
        t = weeks.get(label)
        if t is None:
            t = weeks[label] = _Tally()
        t.add(id_, hash_, ts, title)
    return weeks


def archive_weeks(config: Config, store, key: str) -> list[WeekSummary]:
    """Every week that has articles, newest first, as of now: counted afresh when the kept
    count is for another ``key`` (or there is none), else brought up to date from the changed
    hours (one read per week they touch, in one transaction: a writer never slips a change
    between what was read and what is forgotten).

    Counting afresh reads every article, which at a million takes a while: not inside a
    transaction, so imports and updates go on meanwhile, noting the hours they change; the
    count is then kept and those hours recounted in one short transaction. Should another
    build have begun a count meanwhile, this build uses its own without keeping it."""
    if archive_table.kept_for(store) != key:
        with store.transaction():
            token = archive_table.begin_count(store, key)
        weeks = tally(config, archive_table.every_article(store))
        rows = [t.row(w) for w, t in weeks.items()]
        with store.transaction():
            if archive_table.kept_for(store) == token:
                archive_table.replace_all(store, key, rows)
                _recount(config, store)
        if archive_table.kept_for(store) != key:
            return _summaries(rows)
    elif archive_table.changed_hours(store):
        with store.transaction():
            _recount(config, store)
    return _summaries(archive_table.weeks(store))


def _summaries(rows) -> list[WeekSummary]:
    return [WeekSummary(w, n, d, tuple(json.loads(h))) for w, n, d, h in sorted(rows, reverse=True)]


def _recount(config: Config, store) -> None:
    tz = config.tz
    touched: set[str] = set()
    for hour in archive_table.changed_hours(store):
        for ts in (hour * HOUR, hour * HOUR + HOUR - 1):
            touched.add(Week.of_timestamp(ts, tz).label)
    rows, gone = [], []
    for label in sorted(touched):
        week = Week.parse(label, tz)
        counted = tally(config, archive_table.articles_between(
            store, _unix(week.start), _unix(week.end))).get(label)
        if counted is None:
            gone.append(label)
        else:
            rows.append(counted.row(label))
    archive_table.update(store, rows, gone)


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def week_counts(config: Config, store, until: int | None = None) -> dict[str, int]:
    """``{week label: articles}`` published by ``until``, newest week first, counted now
    (``feedkit serve``'s list of weeks, which shows the week in progress too)."""
    weeks = tally(config, archive_table.every_article(store, until))
    return {w: weeks[w].count for w in sorted(weeks, reverse=True)}
