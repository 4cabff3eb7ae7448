"""The user's cache folder, for what feedkit compiles and could always compile again.

``$XDG_CACHE_HOME/feedkit/<name>`` (``~/.cache/feedkit/<name>``), as pip keeps its wheels:
Jinja's compiled templates (``jinja``) and the compiled gettext catalogs (``catalogs``). Every
entry is checked against its source (Jinja compares the template's text, a catalog is named by
the hash of its ``.po``), so nothing served from here can be stale, and deleting the folder is
always safe. ``FEEDKIT_NO_CACHE`` set (or no writable folder) means compiling every run.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(name: str) -> Path | None:
    """The cache folder ``name`` (created), or None when caching is off or impossible."""
    if os.environ.get("FEEDKIT_NO_CACHE"):
        return None
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = base / "feedkit" / name
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):   # RuntimeError: no home directory to be found
        return None
    return folder


def keep(path: Path, data: bytes) -> None:
    """Write a cache entry whole or not at all (a temporary file renamed into place); a
    failure only means compiling again next time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
