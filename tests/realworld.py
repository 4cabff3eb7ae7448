"""The one place that finds the real-world test data: real Korean government pages, feeds and
news (``real_korean_news.jsonl``), read in place and never copied into this repository (their
licence allows internal testing only, so the public repository cannot ship them).

Looked for in ``$FEEDKIT_REAL_WORLD``, else ``../shared/real-world`` beside the checkout (or
beside the folder holding it, for a git worktree). Tests that need it are marked
``@pytest.mark.real_world`` (or set ``pytestmark``); conftest.py skips them by name when the data
is absent, and the end of the test run lists them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = "FEEDKIT_REAL_WORLD"


def candidates() -> list[Path]:
    env = os.environ.get(ENV)
    if env:
        return [Path(env)]
    return [REPO.parent / "shared" / "real-world", REPO.parents[1] / "shared" / "real-world"]


def real_world_dir() -> Path | None:
    """The real-world data folder, or None when it is not on this machine."""
    for path in candidates():
        if (path / "real_korean_news.jsonl").is_file():
            return path
    return None


def missing_reason() -> str:
    where = " or ".join(str(p) for p in candidates())
    return (f"needs the real-world data (not in {where}; set ${ENV}): licensed for internal "
            "testing only, so the public repository does not ship it")
