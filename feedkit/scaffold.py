"""``feedkit init``: a new site folder with everything to start from.

It writes a commented ``config.toml`` that asks only for what has no sensible default, copies
of the templates to customise, a CI workflow and a ``.gitignore``; and it refuses to overwrite
anything that exists unless told to (``--force``), so running it twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.templating import bundled_templates_dir

GITIGNORE = """\
# feedkit: built output and the SQLite store (rebuilt from data/*.jsonl in CI)
/public/
/articles.db
/articles.db-*
"""


@dataclass
class ScaffoldReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan(target: Path) -> dict[str, bytes]:
    """``relative path -> bytes`` of everything ``init`` writes."""
    bundled = bundled_templates_dir()
    files: dict[str, bytes] = {
        "config.toml": (bundled / "scaffold" / "config.toml").read_bytes(),
        ".gitignore": GITIGNORE.encode("utf-8"),
        "data/articles.jsonl": b"",
    }
    workflow = bundled / "scaffold" / "feedkit.yml"
    if workflow.is_file():
        files[".github/workflows/feedkit.yml"] = workflow.read_bytes()
    for path in sorted(bundled.iterdir()):
        if path.is_file():
            files[f"templates/{path.name}"] = path.read_bytes()
    return files


def init_site(target: Path, force: bool = False) -> ScaffoldReport:
    files = plan(target)
    existing = [rel for rel in files if (target / rel).exists()]
    if existing and not force:
        listed = ", ".join(existing[:5]) + (" …" if len(existing) > 5 else "")
        raise FeedkitError(f"{target}: would overwrite {listed} (use --force to overwrite)")
    report = ScaffoldReport()
    for rel, data in files.items():
        path = target / rel
        if rel == "data/articles.jsonl" and path.exists():
            report.skipped.append(rel)  # never empty a user's data, even with --force
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        report.written.append(rel)
    return report
