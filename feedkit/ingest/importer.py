"""``feedkit import``: records from files → normalised articles → one store transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedkit.ingest.files import read_records
from feedkit.ingest.normalize import KNOWN_FIELDS, RecordError, normalize_record
from feedkit.model import Article
from feedkit.store import Store, UpsertResult


@dataclass
class ImportReport:
    counts: UpsertResult = field(default_factory=UpsertResult)
    rejected: list[str] = field(default_factory=list)  # "FILE:LINE: reason"
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        c = self.counts
        return (f"{c.inserted} inserted, {c.updated} updated, {c.unchanged} unchanged, "
                f"{len(self.rejected)} rejected")


@dataclass(frozen=True)
class FileSpec:
    path: Path
    kind: str | None = None          # None: from the extension
    default_category: str = ""
    label: str = ""                  # how messages name the file (default: the path as given)


class BatchCollector:
    """Normalises records and catches duplicate ids within one import.

    Shared by every reader (files, feeds, web pages) so their errors read the same way.
    """

    def __init__(self, tz: ZoneInfo, report: ImportReport):
        self.tz = tz
        self.report = report
        self.articles: list[Article] = []
        self._seen: dict[str, str] = {}

    def add(self, where: str, record: dict[str, Any] | str, default_category: str = "",
            base_url: str = "") -> Article | None:
        if isinstance(record, str):
            self.report.rejected.append(f"{where}: {record}")
            return None
        try:
            article = normalize_record(record, self.tz, default_category, base_url)
        except RecordError as exc:
            self.report.rejected.append(f"{where}: {exc}")
            return None
        first = self._seen.get(article.id)
        if first is not None:
            self.report.rejected.append(f"{where}: duplicate id {article.id[:120]!r} "
                                        f"(first at {first}; kept that one)")
            return None
        self._seen[article.id] = where
        self.articles.append(article)
        return article


def collect_files(specs: Iterable[FileSpec], tz: ZoneInfo, report: ImportReport,
                  progress: Callable[[int], None] | None = None) -> list[Article]:
    collector = BatchCollector(tz, report)
    for spec in specs:
        label = spec.label or str(spec.path)
        unknown: dict[str, int] = {}
        for line, record in read_records(spec.path, spec.kind):
            if isinstance(record, dict):
                for key in record:
                    if key not in KNOWN_FIELDS:
                        unknown[key] = unknown.get(key, 0) + 1
            collector.add(f"{label}:{line}", record, spec.default_category)
            if progress:
                progress(1)
        if unknown:
            names = ", ".join(sorted(unknown))
            report.warnings.append(f"{label}: ignored unknown fields: {names}")
    return collector.articles


def import_files(store: Store, specs: Iterable[FileSpec], tz: ZoneInfo,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """Read every file, then write all good records in one transaction.

    Reading everything first means a file that cannot be read at all (missing, not UTF-8) stops
    the import before anything is written, instead of leaving half an import behind.
    """
    report = ImportReport()
    articles = collect_files(specs, tz, report, progress)
    with store.transaction():
        report.counts = store.upsert(articles)
    return report
