"""Sources that keep failing: a count of failed runs in a row, kept in the store.

Why: an hourly job where one city board is down for an hour is normal and should stay quiet
(exit 3, one warning). A board that has failed for a day is a layout change or a moved URL that
somebody has to fix, and must be said louder, in ``feedkit update``'s output and in
``feedkit stats``. The streak lives in the store's ``meta`` table; a workflow that rebuilds its
store each run carries it over with ``feedkit export --state`` / ``feedkit import --state``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.store.articles import Store

PREFIX = "source-failing:"
LOUD_AFTER = 24
"""Failed runs in a row after which a source is reported as an error, not a warning: a day of
hourly runs."""
FORGET_AFTER = timedelta(days=2)
"""A streak of a source the running config does not name, counted by another config, is dropped
once no run has counted it for this long. Not at once: several configs may share one store (a
PostgreSQL store written by several ``feedkit update`` processes, each with its own sources),
and one must not wipe the streak of a source another still runs and that keeps failing. A
source the same config counted and no longer names was removed from it: dropped at once."""


@dataclass(frozen=True)
class Streak:
    source: str
    runs: int           # failed runs in a row, this one included
    since: str          # when the first of them ran (UTC, ISO 8601)
    error: str          # the latest error

    @property
    def loud(self) -> bool:
        return self.runs >= LOUD_AFTER

    def message(self) -> str:
        return (f"{self.source}: has failed {self.runs} runs in a row (since {self.since}); "
                f"last error: {self.error}")


def record_run(store: Store, results: Iterable[tuple[str, str]], now: str,
               configured: Iterable[str] | None = None, runner: str = "") -> list[Streak]:
    """Count this run: ``results`` is ``(source label, error or "")`` per source that ran. A
    success clears the source's streak. With ``configured`` (every source label in the config),
    streaks of sources not configured are dropped too, so a renamed or removed source is not
    reported forever: at once when this config (``runner``, see :func:`runner_of`) counted
    them, else after :data:`FORGET_AFTER`. Returns the streaks of the sources that failed
    now."""
    streaks = []
    with store.transaction():
        if configured is not None:
            keep = set(configured)
            for old in failing(store):
                if old.source not in keep and _forgotten(store.get_meta(PREFIX + old.source),
                                                         now, runner):
                    store.db.execute("DELETE FROM meta WHERE key = ?", (PREFIX + old.source,))
        for source, error in results:
            key = PREFIX + source
            if not error:
                store.db.execute("DELETE FROM meta WHERE key = ?", (key,))
                continue
            old = _load(source, store.get_meta(key))
            streak = Streak(source, (old.runs if old else 0) + 1, old.since if old else now,
                            error)
            store.set_meta(key, json.dumps({"runs": streak.runs, "since": streak.since,
                                            "error": streak.error, "last": now,
                                            "by": runner},
                                           ensure_ascii=False))
            streaks.append(streak)
    return streaks


def runner_of(config_path: Path) -> str:
    """Which config counts a streak: a short hash of its file's path (no path in the store)."""
    import hashlib

    return hashlib.sha256(str(config_path.resolve()).encode()).hexdigest()[:16]


def _forgotten(value: str | None, now: str, runner: str) -> bool:
    """True when this config (``runner``) counted the streak, when it was last counted
    :data:`FORGET_AFTER` before ``now``, or when it does not say (written by an older feedkit,
    or carried over as text)."""
    try:
        data = json.loads(value or "{}")
        if data.get("by", "") == runner:
            return True
        return datetime.fromisoformat(now) - datetime.fromisoformat(data["last"]) \
            >= FORGET_AFTER
    except (ValueError, KeyError, TypeError, AttributeError):
        return True


def failing(store: Store) -> list[Streak]:
    """Every source whose last run failed, longest streak first."""
    rows = store.db.execute("SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
                            (PREFIX, PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1)))
    streaks = [s for key, value in rows if (s := _load(key[len(PREFIX):], value))]
    return sorted(streaks, key=lambda s: (-s.runs, s.source))


def _load(source: str, value: str | None) -> Streak | None:
    if not value:
        return None
    try:
        data = json.loads(value)
        return Streak(source, int(data["runs"]), str(data["since"]), str(data["error"]))
    except (ValueError, KeyError, TypeError):
        return None


# -- carried over as text ------------------------------------------------------------------------


def export_state(store: Store) -> bytes:
    """The streaks as sorted JSON Lines (deterministic; no subscriber data), then the digests of
    the feeds as last built (:mod:`feedkit.store.feed_hashes`, with WebSub hubs only)."""
    from feedkit.store.feed_hashes import export_lines

    lines = [json.dumps({"source": s.source, "runs": s.runs, "since": s.since, "error": s.error},
                        ensure_ascii=False, sort_keys=True) + "\n"
             for s in sorted(failing(store), key=lambda s: s.source)]
    return "".join(lines + export_lines(store)).encode("utf-8")


def import_state(store: Store, path: Path) -> int:
    """Restore streaks written by :func:`export_state`; an empty or missing file is no state."""
    if not path.exists():
        return 0
    from feedkit.store.feed_hashes import import_record

    rows, feeds = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if isinstance(d, dict) and "feed" in d:
                feeds.append((str(d["feed"]), str(d["sha256"])))
                continue
            streak = Streak(str(d["source"]), int(d["runs"]), str(d["since"]), str(d["error"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise FeedkitError(f"{path}:{number}: not a state record ({exc})") from None
        rows.append(streak)
    with store.transaction():
        for feed, digest in feeds:
            import_record(store, {"feed": feed, "sha256": digest})
        for s in rows:
            store.set_meta(PREFIX + s.source, json.dumps(
                {"runs": s.runs, "since": s.since, "error": s.error}, ensure_ascii=False))
    return len(rows)
