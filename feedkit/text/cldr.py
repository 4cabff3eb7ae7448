"""Babel's CLDR date formatting, remembered across runs.

Before it formats its first date, Babel costs a process about 30 ms: its import, then the
locale's CLDR data unpickled and merged with the root locale's. That is more than a feed
page build spends on its own work, and a cron job's build formats the same few hundred days
every hour. What Babel returns depends only on Babel's version, the locale, the pattern and
the day, so the answers are kept in the user's cache folder (:mod:`feedkit.text.usercache`,
``cldr``), one small JSON file per (Babel version, locale, pattern): a build whose days were
all seen before never imports Babel. Every file is named by everything its answers depend
on, so nothing served from it can be stale; deleting the folder is always safe, and
``FEEDKIT_NO_CACHE`` (or no writable cache folder) means asking Babel every run.

New answers are written when the process ends (one write per file, however many days an
archive build adds); a file another process wrote meanwhile is merged, not overwritten.
"""

from __future__ import annotations

import atexit
import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

_FORMAT = b"feedkit cldr 1\0"


@lru_cache(maxsize=1)
def _babel_stamp() -> str:
    """Which Babel answers: a hash of its ``__init__.py``, which carries ``__version__``,
    found without importing it (the import is what this module saves)."""
    from importlib.util import find_spec

    spec = find_spec("babel")
    origin = spec.origin if spec is not None else None
    try:
        text = Path(origin).read_bytes() if origin else b""
    except OSError:
        text = b""
    return hashlib.sha256(text).hexdigest()


class _Memo:
    """The remembered answers for one (locale, kind, pattern), and the ones this run added."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.added: dict[str, str] = {}
        self.values: dict[str, str] = _read(path) if path is not None else {}


def _read(path: Path) -> dict[str, str]:
    """A memo file's answers; a missing, unreadable or foreign file counts as empty."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


_memos: dict[tuple[str, str, str], _Memo] = {}


def _memo(code: str, kind: str, pattern: str) -> _Memo:
    memo = _memos.get((code, kind, pattern))
    if memo is None:
        from feedkit.text.usercache import cache_dir

        folder = cache_dir("cldr")
        path = None
        if folder is not None:
            name = hashlib.sha256(_FORMAT + "\0".join(
                (_babel_stamp(), code, kind, pattern)).encode()).hexdigest()
            path = folder / f"{name}.json"
        memo = _memos[(code, kind, pattern)] = _Memo(path)
    return memo


def remembered(code: str, kind: str, pattern: str, key: str,
               compute: Callable[[], str]) -> str:
    """Babel's answer for locale ``code``, call ``kind`` with ``pattern``, on ``key`` (the
    day or days, ISO); ``compute`` asks Babel when no earlier run has."""
    memo = _memo(code, kind, pattern)
    value = memo.values.get(key)
    if value is None:
        value = memo.values[key] = memo.added[key] = compute()
        if memo.path is not None and len(memo.added) == 1:
            _pending.append(memo)
            _save_at_exit()
    return value


_pending: list[_Memo] = []


@lru_cache(maxsize=1)
def _save_at_exit() -> None:
    atexit.register(save)


def save() -> None:
    """Write this run's new answers, merged with whatever the files hold by now."""
    from feedkit.text.usercache import keep

    while _pending:
        memo = _pending.pop()
        if memo.path is None or not memo.added:
            continue
        merged = {**_read(memo.path), **memo.added}
        memo.added = {}
        keep(memo.path, json.dumps(merged, ensure_ascii=False, sort_keys=True,
                                   separators=(",", ":")).encode("utf-8"))
