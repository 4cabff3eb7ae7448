"""``feedkit stats``: what the store holds, for a person or (``--json``) a script."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime

from feedkit.store.articles import Store
from feedkit.store.health import LOUD_AFTER, failing

WITHDRAWN_SHOWN = 10


@dataclass
class StoreStats:
    articles: int
    first: str | None
    last: str | None
    categories: list[dict] = field(default_factory=list)
    uncategorised: int = 0
    last_import: str | None = None
    digests: list[dict] = field(default_factory=list)
    schema_version: int = 0
    failing_sources: list[dict] = field(default_factory=list)
    withdrawn: int = 0
    withdrawals: list[dict] = field(default_factory=list)   # latest first

    def as_dict(self) -> dict:
        return asdict(self)


def collect(store: Store, tz) -> StoreStats:
    from feedkit.editorial import withdrawals

    db = store.db
    count, first, last = db.execute(
        "SELECT count(*), min(published_ts), max(published_ts) FROM articles").fetchone()

    def day(ts: int | None) -> str | None:
        return datetime.fromtimestamp(ts, tz).date().isoformat() if ts is not None else None

    cats = [{"name": c.name, "articles": c.count, "first": day(int(c.first.timestamp())),
             "last": day(int(c.last.timestamp()))} for c in store.categories()]
    uncategorised = db.execute(
        "SELECT count(*) FROM articles WHERE category = ''").fetchone()[0]
    digests = [{"week": week, "sent": sent, "failed": failed, "last": last_time}
               for week, sent, failed, last_time in db.execute(
                   "SELECT week, count(CASE WHEN status = 'sent' THEN 1 END), "
                   "count(CASE WHEN status = 'failed' THEN 1 END), max(updated_at) "
                   "FROM send_log GROUP BY week ORDER BY week DESC")]
    return StoreStats(
        articles=count, first=day(first), last=day(last), categories=cats,
        uncategorised=uncategorised, last_import=store.get_meta("last_import"),
        digests=digests, schema_version=store.schema_version,
        failing_sources=[{"source": s.source, "runs": s.runs, "since": s.since,
                          "error": s.error, "loud": s.loud} for s in failing(store)],
        withdrawn=withdrawals.count(store),
        withdrawals=[{"id": w.id, "title": w.title, "url": w.url, "category": w.category,
                      "published": w.published, "at": w.at, "reason": w.reason}
                     for w in withdrawals.listing(store)],
    )


def _width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_stats(stats: StoreStats, store_path: str) -> str:
    lines = [f"store: {store_path} (schema version {stats.schema_version})",
             f"articles: {stats.articles}"]
    if stats.articles:
        lines.append(f"published: {stats.first} … {stats.last}")
    if stats.last_import:
        lines.append(f"last import: {stats.last_import}")
    rows = [(c["name"], c["articles"], f"{c['first']} … {c['last']}") for c in stats.categories]
    if stats.uncategorised:
        rows.append(("(no category)", stats.uncategorised, ""))
    if rows:
        width = max(_width(name) for name, _, _ in rows)
        lines.append("categories:")
        lines += [f"  {_pad(name, width)}  {n:>6}  {span}".rstrip() for name, n, span in rows]
    if stats.digests:
        lines.append("digests sent:")
        for d in stats.digests:
            failed = f", {d['failed']} failed" if d["failed"] else ""
            lines.append(f"  {d['week']}: {d['sent']} sent{failed} (last {d['last']})")
    else:
        lines.append("digests sent: none")
    if stats.withdrawn:
        # "articles" counts what is published; withdrawn ones are kept apart (feedkit restore)
        lines.append(f"withdrawn: {stats.withdrawn} (not in any feed, page or digest)")
        shown = stats.withdrawals[:WITHDRAWN_SHOWN]
        lines += [f"  {w['at'][:10]}  {w['title']}: {w['reason']}" for w in shown]
        if stats.withdrawn > len(shown):
            lines.append(f"  … {stats.withdrawn - len(shown)} more (stats --json lists all)")
    if stats.failing_sources:
        lines.append("failing sources (last run):")
        for f in stats.failing_sources:
            flag = f"  <- failing for {LOUD_AFTER}+ runs: fix it" if f["loud"] else ""
            lines.append(f"  {f['source']}: {f['runs']} run(s) in a row since {f['since']}: "
                         f"{f['error']}{flag}")
    return "\n".join(lines)
