"""``feedkit import``: records from files → normalised articles → one store transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedkit.editorial.publication import (
    EARLIEST_PLAUSIBLE,
    FUTURE_SLACK,
    build_time,
    date_warning,
)
from feedkit.errors import check_readable
from feedkit.ingest.normalize import RecordError, normalize_record
from feedkit.ingest.seen import SeenIds
from feedkit.model import Article
from feedkit.store.articles import Store, UpsertResult


@dataclass
class ImportReport:
    counts: UpsertResult = field(default_factory=UpsertResult)
    rejected: list[str] = field(default_factory=list)  # "FILE:LINE: reason"
    warnings: list[str] = field(default_factory=list)
    withdrawn: int = 0   # records imported as withdrawn (an export's withdrawals)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        c = self.counts
        text = (f"{c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged, "
                f"{len(self.rejected)} rejected")
        if self.withdrawn:
            text += f", {self.withdrawn} withdrawn"
        if c.withheld:
            text += f", {c.withheld} withdrawn earlier (not brought back)"
        return text


@dataclass(frozen=True)
class FileSpec:
    path: Path
    kind: str | None = None          # None: from the extension
    default_category: str = ""
    label: str = ""                  # how messages name the file (default: the path as given)
    license: str = ""                # the source's licence code ("" for the site's)


class BatchCollector:
    """Normalises records and catches duplicate ids within one import.

    Shared by every reader (files, feeds, web pages) so their errors read the same way. Good
    articles wait in :attr:`pending` until the caller drains them into the store. The ids
    already taken are kept in a few bytes each (:class:`feedkit.ingest.seen.SeenIds`), not as
    strings: a million-record import stays under 100 MB.
    """

    def __init__(self, tz: ZoneInfo, report: ImportReport, now: datetime | None = None,
                 license: str = ""):
        self.tz = tz
        self.license = license   # the source's licence code, for records that name none
        self.report = report
        self.now = build_time(now)  # only for warnings about implausible dates
        # The dates no warning is about, compared once per record (date_warning says why).
        self._plausible = (EARLIEST_PLAUSIBLE, self.now + FUTURE_SLACK)
        self.pending: list[Article] = []
        self._seen = SeenIds()

    def add(self, where: str, record: dict[str, Any] | str, default_category: str = "",
            base_url: str = "") -> Article | None:
        if isinstance(record, str):
            return self.take(where, record)
        try:
            article = normalize_record(record, self.tz, default_category, base_url,
                                       self.license)
        except RecordError as exc:
            return self.take(where, str(exc))
        return self.take(where, article)

    def take(self, where: str, normalised: Article | str) -> Article | None:
        """A record already normalised (or why it could not be: ``normalised`` is then the
        reason); the article when it is taken, None when rejected (a duplicate id)."""
        if isinstance(normalised, str):
            self.report.rejected.append(f"{where}: {normalised}")
            return None
        article = normalised
        first = self._seen.take(article.id, where)
        if first is not None:
            self.report.rejected.append(f"{where}: duplicate id {article.id[:120]!r} "
                                        f"(first at {first}; kept that one)")
            return None
        self.pending.append(article)
        earliest, latest = self._plausible
        if not earliest <= article.published <= latest:
            warning = date_warning(article.published, self.now)
            if warning:
                self.report.warnings.append(f"{where}: {warning}")
        return article

    def drain(self) -> list[Article]:
        batch, self.pending = self.pending, []
        return batch


BATCH = 1000


def import_files(store: Store, specs: Iterable[FileSpec], tz: ZoneInfo,
                 progress: Callable[[int], None] | None = None,
                 parallel: bool | None = None) -> ImportReport:
    """Stream every file into the store in one transaction.

    One transaction means all or nothing: a file that turns out unreadable half-way (a broken
    JSON array, bad UTF-8 in a CSV) rolls the whole import back instead of leaving part of it.
    Records are written in batches so memory stays flat however large the export (but for the
    ids taken so far, about 30 bytes each: see :class:`BatchCollector`). Large files are read
    and normalised by a second process meanwhile (``parallel``: None decides by size, see
    :mod:`feedkit.ingest.pipeline`); the result is the same either way.
    """
    from feedkit.ingest.pipeline import records

    specs = list(specs)
    for spec in specs:  # a missing file fails before anything is read or written
        check_readable(spec.path)
    report = ImportReport()
    collector = BatchCollector(tz, report)
    with store.transaction():
        stream = records(specs, tz, parallel)
        for spec in specs:
            label = spec.label or str(spec.path)
            for item in stream:
                if item[0] == "end":
                    if item[1]:
                        report.warnings.append(f"{label}: ignored unknown fields: "
                                               f"{', '.join(item[1])}")
                    break
                _, line, withdrawn, payload = item
                if withdrawn is not None:
                    _import_withdrawn(store, collector, f"{label}:{line}", withdrawn, payload)
                else:
                    collector.take(f"{label}:{line}", payload)
                if len(collector.pending) >= BATCH:
                    report.counts.add(store.upsert(collector.drain()))
                if progress:
                    progress(1)
        report.counts.add(store.upsert(collector.drain()))
    return report


def _import_withdrawn(store: Store, collector: BatchCollector, where: str, mark: Any,
                      normalised: Article | str) -> None:
    """An exported withdrawal (``"withdrawn": {"at", "reason"}``, see
    :mod:`feedkit.editorial.withdrawals`): the article goes to the store as withdrawn, never
    live."""
    from feedkit.editorial.withdrawals import put_withdrawn, read_mark
    from feedkit.errors import FeedkitError

    try:
        at, reason = read_mark(mark, where)
    except FeedkitError as exc:
        collector.report.rejected.append(str(exc))
        return
    article = collector.take(where, normalised)
    if article is None:
        return
    collector.pending.remove(article)
    put_withdrawn(store, article, reason, at)
    collector.report.withdrawn += 1
