"""``feedkit init``: a new site folder with everything to start from.

It writes a commented ``config.toml`` that asks only for what has no sensible default, a
``requirements.txt`` naming exactly the feedkit that ran ``init``, a CI workflow (its actions
pinned by commit hash) with a Dependabot config that keeps those pins current, and a
``.gitignore``; copies of the bundled templates only when asked (``--templates``), so template
fixes in later feedkit versions reach every site that did not customise them.

It never destroys work: without ``--force`` it refuses to overwrite anything; with ``--force`` it
refreshes the scaffold's own files (workflow, ``requirements.txt``, the templates when
``--templates`` is given; ``.gitignore`` gets our missing lines added) but leaves an existing
``config.toml`` alone, writing the new template beside it as ``config.toml.new``; the data file
is never emptied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.install import InstallSpec, running_install
from feedkit.text.templating import bundled_templates_dir

GITIGNORE = """\
# feedkit: built output and the SQLite store (rebuilt from data/store.jsonl in CI)
/public/
/articles.db
/articles.db-*
# Never commit subscriber addresses: recipients come from the FEEDKIT_RECIPIENTS secret.
/recipients*
*.recipients
# A rendered message (`digest render --eml`) carries its recipient's address in To:.
*.eml
.venv/
"""

KEEP = ("config.toml", "data/articles.jsonl", ".github/dependabot.yml")
"""Files ``--force`` never overwrites: they hold the site's own work (a Dependabot config may
have grown entries of the site's own)."""

TEMPLATES_LINE = '# templates = "templates"'


@dataclass
class ScaffoldReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    beside: list[str] = field(default_factory=list)   # "config.toml.new": new template, not used
    install: InstallSpec | None = None


def requirements_text(spec: InstallSpec) -> str:
    """The site's requirements.txt: what CI installs, and what setup-python's pip cache keys on."""
    note = "" if spec.portable else (
        "# NOTE: a path on the machine that ran 'feedkit init'; CI cannot install it.\n"
        "# Replace it with feedkit-city @ git+https://…@COMMIT or feedkit-city==X.Y.\n")
    return ("# The feedkit this site runs (written by 'feedkit init'). The distribution is\n"
            "# 'feedkit-city': the name 'feedkit' on the package index is another project.\n"
            f"{note}{spec.requirement}\n")


def merged_gitignore(existing: bytes, ours: bytes) -> bytes:
    """The site's own .gitignore plus any of our lines it lacks: its additions are work too,
    and dropping our recipients rule could publish a mailing list."""
    have = {line.strip() for line in existing.decode("utf-8", "replace").splitlines()}
    missing = [line for line in ours.decode("utf-8").splitlines()
               if line.strip() and line.strip() not in have]
    if not missing:
        return existing
    sep = b"" if existing.endswith(b"\n") or not existing else b"\n"
    return existing + sep + ("\n".join(missing) + "\n").encode("utf-8")


def config_template(templates: bool) -> bytes:
    text = (bundled_templates_dir() / "scaffold" / "config.toml").read_text(encoding="utf-8")
    if templates:
        assert TEMPLATES_LINE in text, "scaffold config lost its templates line"
        text = text.replace("# [build]\n", "[build]\n", 1)
        text = text.replace(TEMPLATES_LINE, TEMPLATES_LINE.removeprefix("# ") + "  ", 1)
    return text.encode("utf-8")


def plan(templates: bool = False, spec: InstallSpec | None = None) -> dict[str, bytes]:
    """``relative path -> bytes`` of everything ``init`` writes."""
    bundled = bundled_templates_dir()
    spec = spec or running_install()
    files: dict[str, bytes] = {
        "config.toml": config_template(templates),
        ".gitignore": GITIGNORE.encode("utf-8"),
        "requirements.txt": requirements_text(spec).encode("utf-8"),
        "data/articles.jsonl": b"",
        ".github/workflows/feedkit.yml": (bundled / "scaffold" / "feedkit.yml").read_bytes(),
        # The workflow's actions are pinned by hash: Dependabot keeps the pins current.
        ".github/dependabot.yml": (bundled / "scaffold" / "dependabot.yml").read_bytes(),
    }
    if templates:
        for path in sorted(bundled.iterdir()):
            if path.is_file():
                files[f"templates/{path.name}"] = path.read_bytes()
    return files


def init_site(target: Path, force: bool = False, templates: bool = False,
              spec: InstallSpec | None = None) -> ScaffoldReport:
    spec = spec or running_install()
    files = plan(templates, spec)
    existing = [rel for rel in files if (target / rel).exists()]
    if existing and not force:
        listed = ", ".join(existing[:5]) + (" …" if len(existing) > 5 else "")
        raise FeedkitError(f"{target}: would overwrite {listed} (--force refreshes the "
                           "scaffold's files and keeps config.toml and your data)")
    report = ScaffoldReport(install=spec)
    try:
        _write(target, files, report)
    except OSError as exc:
        # A folder that cannot be created or written (read-only, a file in the way, a full
        # disk) is the environment's doing, not a bug: one line, exit 1, no traceback.
        where = exc.filename or target
        raise SiteWriteError(f"{where}: cannot write the site: {exc.strerror or exc}") from None
    return report


class SiteWriteError(FeedkitError):
    """The scaffold could not be written (exit 1: a run-time failure, not a usage error)."""


def _write(target: Path, files: dict[str, bytes], report: ScaffoldReport) -> None:
    for rel, data in files.items():
        path = target / rel
        if rel in KEEP and path.exists():
            if rel == "config.toml" and path.read_bytes() != data:
                beside = path.with_name(path.name + ".new")
                beside.write_bytes(data)
                report.beside.append(rel + ".new")
            report.skipped.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel == ".gitignore" and path.exists():
            data = merged_gitignore(path.read_bytes(), data)
        if path.exists() and path.read_bytes() == data:
            report.skipped.append(rel)
            continue
        path.write_bytes(data)
        report.written.append(rel)
