"""Hash every output of a pinned build, so a refactor can prove it changed no byte.

Builds the bundled sample (``data/boryeong.jsonl`` with ``config.toml``) and, when present, the
255 real-world records (found by ``tests/realworld.py``), each in a fresh folder with a pinned
``--now``; renders one fixed week's digest as .eml, HTML, text and web page; and prints one
``sha256  path`` line per file (plus each command's exit code and output, with the temporary
folder's name taken out). Run it on the old code and the new one and diff the two listings:

    python bench/compare_builds.py > before.txt   # on main, before the change
    python bench/compare_builds.py > after.txt    # after it
    diff before.txt after.txt                     # nothing: byte-identical

``--save FILE`` / ``--check FILE`` do the same with a file (exit 1 and the differing lines when
the listing differs). ``--pg`` builds on PostgreSQL instead (a throwaway cluster, each case in a
schema of its own; ``--pg-url URL`` for an existing server): its listing is compared with a
PostgreSQL listing, the store's address taken out of the messages.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from realworld import real_world_dir  # noqa: E402

# (name, records file or None for the config's own sources, --now, digest week)
CASES = [
    ("sample", None, "2024-12-31T12:00", "2024-W51"),
    ("real-world", "real_korean_news.jsonl", "2025-12-31T12:00", "2025-W49"),
]


PG_URL: list[str] = []   # the PostgreSQL server of --pg / --pg-url, when given


def run(site: Path, *args: str, now: str | None = None) -> str:
    """One feedkit command in ``site``; its exit code and output, made folder-independent."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDKIT_")}
    if now:
        env["FEEDKIT_NOW"] = now
    proc = subprocess.run([sys.executable, "-m", "feedkit", "--config", str(site), *args],
                          cwd=site, env=env, capture_output=True, text=True)
    text = f"$ feedkit {' '.join(args)} -> {proc.returncode}\n{proc.stdout}{proc.stderr}"
    text = text.replace(str(site), "<site>")
    if PG_URL:
        text = re.sub(r"postgresql://\S*?(?=[\s:]|$)", "<store>", text)
    return text


def use_store(site: Path, name: str) -> None:
    """Point the copied config's ``[store]`` at a fresh schema on the --pg server."""
    if not PG_URL:
        return
    config = site / "config.toml"
    schema = f"compare_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    text = config.read_text(encoding="utf-8").replace(
        'path = "articles.db"', f'url = "{PG_URL[0]}"\nschema = "{schema}"', 1)
    config.write_text(text, encoding="utf-8")


def case_listing(name: str, records: str | None, now: str, week: str, tmp: Path) -> list[str]:
    site = tmp / name
    site.mkdir()
    shutil.copy(REPO / "config.toml", site / "config.toml")
    use_store(site, name)
    shutil.copytree(REPO / "data", site / "data")
    lines: list[str] = []
    if records is None:
        lines.append(run(site, "import"))
    else:
        real = real_world_dir()
        if real is None:
            return [f"# {name}: skipped (no real-world data)"]
        lines.append(run(site, "import", str(real / records)))
    lines.append(run(site, "build", "--now", now))
    lines.append(run(site, "build", "--now", now))      # the skip-unchanged path
    lines.append(run(site, "update", now=now))          # fetch + build: all unchanged
    digest = site / "digest-out"
    digest.mkdir()
    lines.append(run(site, "digest", "render", "--week", week, "--eml", str(digest / "week.eml"),
                     "--html", str(digest / "week.html"), "--text", str(digest / "week.txt"),
                     "--web", str(digest / "web.html")))
    for folder in ("public", "digest-out"):
        for path in sorted((site / folder).rglob("*")):
            if path.is_file():
                digest_hex = hashlib.sha256(path.read_bytes()).hexdigest()
                lines.append(f"{digest_hex}  {name}/{path.relative_to(site)}")
    return [f"# {name}", *lines]


def listing() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out: list[str] = []
        for case in CASES:
            out += case_listing(*case, Path(tmp))
        return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write the listing to this file")
    parser.add_argument("--check", type=Path, help="compare the listing with this file")
    parser.add_argument("--pg", action="store_true",
                        help="build on a throwaway PostgreSQL cluster instead of SQLite")
    parser.add_argument("--pg-url", help="build on this PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    if args.pg_url:
        PG_URL.append(args.pg_url)
    elif args.pg:
        sys.path.insert(0, str(REPO / "bench"))
        from pg_server import start_durable

        cluster = start_durable()
        PG_URL.append(cluster.url)
    text = listing()
    if args.save:
        args.save.write_text(text, encoding="utf-8")
    if args.check:
        old = args.check.read_text(encoding="utf-8")
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                       "before", "after"))
            return 1
        print(f"identical: {text.count(chr(10))} lines, "
              f"{sum(1 for line in text.splitlines() if '  ' in line and len(line) > 66)} files")
        return 0
    if not args.save:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
