"""``feedkit update``: read every configured source, store new and changed articles.

It returns an :class:`UpdateReport` and never builds: the CLI prints every source's errors from
that report first, then runs :func:`feedkit.site.build.build` (ingest depends on the store, never on
the output).

Each source is read and stored on its own, in its own transaction, so one source that fails
(a site down, a layout that changed, a missing file) costs only its own articles for this run:
the others still update, and nothing already in the store is ever deleted — a source that shows
fewer articles than before just adds nothing. Validators for conditional GET and the "rows
already seen" marks are written in the same transaction as the articles, so a run that fails
half-way is simply redone next time.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from feedkit.config import FILE_SOURCE_KINDS, Config, SourceConfig
from feedkit.errors import FeedkitError
from feedkit.ingest.fetch import Fetcher, FetchSettings, FetchStats, HttpCache, host_of
from feedkit.ingest.images import with_image_types
from feedkit.ingest.importer import BatchCollector, FileSpec, ImportReport, import_files
from feedkit.ingest.netguard import private_hosts_of
from feedkit.store.articles import Store, UpsertResult
from feedkit.text.i18n import for_config

ROW_MARK = "html-row:"   # meta key prefix: html-row:<source id>:<article URL> → row hash
RESUME_MARK = "html-resume:"   # html-resume:<source id> → "1" while a list page is owed


@dataclass
class SourceReport:
    label: str
    kind: str
    counts: UpsertResult = field(default_factory=UpsertResult)
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    detail: str = ""            # traceback of an unexpected error (shown with --verbose)
    pages: int = 0
    not_modified: int = 0
    details: int = 0
    skipped: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error and not self.rejected

    def summary(self) -> str:
        if self.error:
            return f"{self.label}: failed (the error is on stderr)"
        c = self.counts
        parts = []
        if self.pages:
            parts.append(f"{self.pages} page(s)")
        if self.details:
            parts.append(f"{self.details} detail page(s)")
        if self.not_modified:
            parts.append("not modified" if not self.pages else f"{self.not_modified} not modified")
        parts.append(f"{c.inserted} new, {c.updated} changed, "
                     f"{c.unchanged + self.skipped} unchanged, {len(self.rejected)} rejected")
        if c.withheld:
            parts.append(f"{c.withheld} withdrawn (not brought back)")
        return f"{self.label}: " + ", ".join(parts)


@dataclass
class UpdateReport:
    sources: list[SourceReport] = field(default_factory=list)
    fetch: FetchStats = field(default_factory=FetchStats)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources)

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if s.error]

    def totals(self) -> UpsertResult:
        total = UpsertResult()
        for s in self.sources:
            total.add(s.counts)
            total.unchanged += s.skipped
        return total

    def summary(self) -> str:
        t = self.totals()
        rejected = sum(len(s.rejected) for s in self.sources)
        failed = len(self.failed)
        withheld = f", {t.withheld} withdrawn (not brought back)" if t.withheld else ""
        return (f"{len(self.sources)} source(s): {t.inserted} new, {t.updated} changed, "
                f"{t.unchanged} unchanged, {rejected} rejected{withheld}, {failed} failed; "
                f"{self.fetch.requests} request(s), {self.fetch.not_modified} not modified")


class Progress:
    """What a person watching an update sees: one live status line per source on a terminal;
    in a log, nothing per page (unless verbose) and one line per finished source. The drawing
    is :class:`feedkit.progress.Progress`'s, shared with every other long command."""

    def __init__(self, stream: IO[str] | None = None, *, verbose: bool = False,
                 quiet: bool = False, tty: bool | None = None,
                 echo: Callable[[str], None] | None = None):
        from feedkit.progress import Progress as Display

        self.display = Display("update", enabled=not quiet, stream=stream or sys.stderr,
                               tty=tty, echo=echo)
        self.verbose = verbose
        self._pages = 0
        self._new = 0

    @property
    def tty(self) -> bool:
        return self.display.tty

    def start(self, label: str) -> None:
        self.display.label, self._pages, self._new = label, 0, 0
        self.display.status("reading")

    def page(self, url: str, status: str, items: int, new: int) -> None:
        self._pages += 1
        self._new += new
        if self.verbose and not self.tty:
            self.display.line(f"{self.display.label}: {url}: {status}, {items} item(s), "
                              f"{new} new or changed")
        self.display.status(f"{self._pages} page(s), {self._new} new or changed")

    def done(self, report: SourceReport) -> None:
        self.display.line(report.summary())


def source_id(src: SourceConfig) -> str:
    import hashlib

    return hashlib.blake2b((src.url or src.path).encode("utf-8"), digest_size=5).hexdigest()


def run_update(config: Config, store: Store, *, full: bool = False,
               progress: Progress | None = None,
               fetcher: Fetcher | None = None,
               sources: list[SourceConfig] | None = None) -> UpdateReport:
    """Update every source (or ``sources``) and report; building is the caller's job."""
    started = time.monotonic()
    report = UpdateReport()
    cache = HttpCache(store.db)
    if fetcher is None:
        fetcher = Fetcher(FetchSettings.from_config(config), cache,
                          private_hosts=configured_private_hosts(config))
    else:
        fetcher.cache = cache
    # TRANSLATORS: the heading of the attachment list added to an article's text.
    label = for_config(config).gettext("Attachments")
    for src in (config.sources if sources is None else sources):
        sr = SourceReport(label=src.label, kind=src.kind)
        t0 = time.monotonic()
        if progress:
            progress.start(sr.label)
        try:
            _update_source(config, store, src, fetcher, cache, sr, full, progress, label)
        except FeedkitError as exc:
            sr.error = str(exc)
        except Exception as exc:  # a bug or an unforeseen page: keep going with other sources
            sr.error = f"unexpected {type(exc).__name__}: {exc}"
            sr.detail = traceback.format_exc()
        if sr.error:
            cache.discard()
        sr.seconds = time.monotonic() - t0
        report.sources.append(sr)
        if progress:
            progress.done(sr)
    report.fetch = fetcher.stats
    report.seconds = time.monotonic() - started
    return report


def configured_private_hosts(config: Config) -> set[str]:
    """The hosts the operator configured by a private address (a source on 127.0.0.1 or an
    intranet 10.x address, or listed in its allow_hosts): only these may be fetched from a
    non-public address."""
    hosts = [host_of(s.url) for s in config.sources if s.url]
    hosts += [h for s in config.sources for h in s.allow_hosts]
    return private_hosts_of(hosts)


def _update_source(config: Config, store: Store, src: SourceConfig, fetcher: Fetcher,
                   cache: HttpCache, sr: SourceReport, full: bool, progress: Progress | None,
                   attachments_label: str) -> None:
    from feedkit.editorial.licenses import source_code

    tz = config.tz
    if src.kind in FILE_SOURCE_KINDS:
        spec = FileSpec(path=config.resolve(src.path), kind=src.kind,
                        default_category=src.category, label=src.path,
                        license=source_code(src))
        ir = import_files(store, [spec], tz)
        sr.rejected, sr.warnings, sr.counts = ir.rejected, ir.warnings, ir.counts
        return
    ir = ImportReport()
    collector = BatchCollector(tz, ir, license=source_code(src))
    marks: list[tuple[str, str]] = []
    if src.kind == "feed":
        from feedkit.ingest.feed_source import read_feed_source

        path = config.resolve(src.path) if src.path else None
        result = read_feed_source(src, None if path else fetcher, tz, path, full=full)
        sr.warnings += result.warnings
        if result.not_modified:
            sr.not_modified = 1
        for where, record in result.records:
            collector.add(where, record, src.category, result.base_url)
        if progress and not path:
            progress.page(src.url, "not modified" if result.not_modified else "fetched",
                          len(result.records), len(result.records))
    elif src.kind == "html":
        from feedkit.ingest.html_source import read_html_source

        prefix = f"{ROW_MARK}{source_id(src)}:"
        resume_key = RESUME_MARK + source_id(src)
        on_page = progress.page if progress else None

        def store_page(items) -> None:
            # Page by page, each in its own transaction: what was read is kept when a later
            # page fails, and memory holds one page, not the whole board.
            page_marks = []
            for item in items:
                article = collector.add(item.where, item.record, src.category, item.base_url)
                if article is not None:
                    page_marks.append((prefix + item.key, item.row_hash))
            batch = with_image_types(store, fetcher, collector.drain())   # outside the lock
            with store.transaction():
                sr.counts.add(store.upsert(batch))
                for key, value in page_marks:
                    store.set_meta(key, value)

        result = read_html_source(src, fetcher, _known_fn(store, prefix), full=full,
                                  on_page=on_page, attachments_label=attachments_label,
                                  store_page=store_page,
                                  resume=store.get_meta(resume_key) == "1")
        marks.append((resume_key, "1" if result.incomplete else ""))
        sr.pages, sr.not_modified = result.pages, result.not_modified
        sr.details, sr.skipped = result.details, result.skipped
        ir.rejected[:0] = result.rejected      # reading problems first, then normalising ones
        ir.warnings[:0] = result.warnings
    else:  # pragma: no cover - config validation rejects unknown kinds
        raise FeedkitError(f"unknown source kind {src.kind!r}")
    sr.rejected += ir.rejected
    sr.warnings += ir.warnings
    if sr.rejected:
        # A page with a rejected item (its detail page was down, say) must be read again next
        # time, not answered 304: keep the old validators.
        cache.discard()
    batch = with_image_types(store, fetcher, collector.drain())
    with store.transaction():
        sr.counts.add(store.upsert(batch))
        for key, value in marks:
            store.set_meta(key, value)
        cache.commit()


def _known_fn(store: Store, prefix: str) -> Callable[[dict[str, str]], set[str]]:
    """For one list page: the article URLs already stored whose list row has not changed."""

    def known(rows: dict[str, str]) -> set[str]:
        if not rows:
            return set()
        urls = list(rows)
        marks = ",".join("?" * len(urls))
        seen = dict(store.db.execute(
            f"SELECT key, value FROM meta WHERE key IN ({marks})", [prefix + u for u in urls]))
        stored = {r[0] for r in store.db.execute(
            f"SELECT id FROM articles WHERE id IN ({marks})", urls)}
        return {u for u, h in rows.items() if u in stored and seen.get(prefix + u) == h}

    return known
