"""code_stamp() must see every module of feedkit, subpackages included.

A build is skipped when its fingerprint (which includes the code stamp) is unchanged; a change in
``feedkit/validate/rss.py`` or ``feedkit/ingest/*.py`` is as much a code change as one in a
top-level module. The stamp is computed in a copy of the package (imported from the copy by a
child interpreter), so the installed tree is never touched.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import feedkit

PACKAGE = Path(feedkit.__file__).resolve().parent


def _stamp(root: Path) -> tuple:
    """code_stamp() of the feedkit copy under ``root``, asserting the copy is what ran."""
    code = ("import feedkit, feedkit.site.output as s; "
            "print(repr((feedkit.__file__, s.code_stamp())))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)}, check=True).stdout
    where, stamp = ast.literal_eval(out)
    assert Path(where).resolve().is_relative_to(root.resolve())
    return stamp


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(PACKAGE, root / "feedkit", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_stamp_lists_subpackage_modules_by_relative_path(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    rss = root / "feedkit" / "validate" / "rss.py"
    entries = {name: (size, mtime) for name, size, mtime in _stamp(root)[1:]}
    assert entries["validate/rss.py"] == (rss.stat().st_size, rss.stat().st_mtime_ns)
    assert "ingest/update.py" in entries
    assert "cli/__init__.py" in entries


def test_changed_subpackage_module_changes_the_stamp(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = _stamp(root)
    assert _stamp(root) == before  # nothing changed: same stamp
    rss = root / "feedkit" / "validate" / "rss.py"
    st = rss.stat()
    os.utime(rss, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched, same bytes
    touched = _stamp(root)
    assert touched != before
    rss.write_text(rss.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert _stamp(root) != touched
