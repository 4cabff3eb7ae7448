"""Benchmark: the same store work on SQLite and on PostgreSQL (issue 11).

  import of N articles (fresh store)          target: PostgreSQL <= 2x SQLite
  build, cold (feeds + index, outputs reset)  target: PostgreSQL <= 1.5x SQLite
  build, no-op (nothing changed)              reported
  full build with the digest archive, cold    reported

PostgreSQL runs as a real server would: a throwaway cluster on loopback started for the run
with the server's default durability (fsync, synchronous_commit on; the test suite's cluster
turns those off), or ``--pg-url`` for an existing one (a schema is made and dropped). The runs
alternate between the backends so machine noise falls on both alike.

Usage: python bench/bench_backends.py [--articles 20000] [--repeat 3] [--pg-url URL]
Needs: pip install -e ".[postgres]" and Debian's postgresql (or --pg-url).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pg_server import start_durable, timed  # noqa: E402
from synth import SITE_TOML, write_jsonl  # noqa: E402

BIN = Path(sys.executable).parent
CONFIG = SITE_TOML + """\
author = "보령시"
[store]
{store}
[feeds]
limit = 50
formats = ["rss", "atom"]
[build]
out = "public"
[digest]
archive = {archive}
"""


class Backend:
    def __init__(self, name: str, root: Path, url: str = ""):
        self.name, self.url = name, url
        self.schema = f"bench_{uuid.uuid4().hex[:8]}" if url else ""
        self.dirs = {}
        for archive in (False, True):
            folder = root / f"{name}-{'full' if archive else 'feeds'}"
            folder.mkdir()
            store = (f'url = "{url}"\nschema = "{self.schema}"' if url
                     else f'path = "{(root / name).as_posix()}.db"')
            (folder / "config.toml").write_text(
                CONFIG.format(store=store, archive=str(archive).lower()), encoding="utf-8")
            self.dirs[archive] = folder
        self.db = root / f"{name}.db"

    def sql(self, statement: str) -> None:
        if self.url:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(statement.replace("{schema}", self.schema))
        else:
            import sqlite3

            if self.db.exists() and "{schema}" not in statement:
                with sqlite3.connect(self.db) as conn:
                    conn.execute(statement)

    def fresh_store(self) -> None:
        if self.url:
            self.sql('DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            for p in self.db.parent.glob(self.db.name + "*"):
                p.unlink()

    def fresh_out(self, archive: bool) -> None:
        shutil.rmtree(self.dirs[archive] / "public", ignore_errors=True)
        table = "outputs" if not self.url else '"{schema}".outputs'
        self.sql(f"DELETE FROM {table}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg-url", default="")
    args = ap.parse_args()
    feedkit = str(BIN / "feedkit")
    root = Path(tempfile.mkdtemp(prefix="feedkit-bench-backends-"))
    cluster = None
    try:
        url = args.pg_url
        if not url:
            cluster = start_durable()
            url = cluster.url
        data = write_jsonl(root / "articles.jsonl", args.articles)
        backends = [Backend("sqlite", root), Backend("postgresql", root, url)]
        results: dict[tuple[str, str], list[float]] = {}

        def measure(label: str, b: Backend, setup, cmd: list[str], cwd: Path) -> None:
            setup()
            results.setdefault((label, b.name), []).append(timed(cmd, cwd))

        for _ in range(args.repeat):
            for b in backends:
                measure("import", b, b.fresh_store, [feedkit, "-q", "import", str(data)],
                        b.dirs[False])
        for _ in range(args.repeat):
            for b in backends:
                measure("build (cold)", b, lambda b=b: b.fresh_out(False),
                        [feedkit, "-q", "build"], b.dirs[False])
        for _ in range(args.repeat):
            for b in backends:
                measure("build (no-op)", b, lambda: None, [feedkit, "-q", "build"],
                        b.dirs[False])
        for _ in range(args.repeat):
            for b in backends:
                measure("full build with archive (cold)", b, lambda b=b: b.fresh_out(True),
                        [feedkit, "-q", "build"], b.dirs[True])
        targets = {"import": 2.0, "build (cold)": 1.5}
        print(f"{args.articles} articles; median of {args.repeat} (min-max)")
        print(f"{'measure':34} {'SQLite':>16} {'PostgreSQL':>16} {'ratio':>6} {'target':>7}")
        ok = True
        for label in dict.fromkeys(k[0] for k in results):
            lite, pgs = results[(label, "sqlite")], results[(label, "postgresql")]
            a, b = statistics.median(lite), statistics.median(pgs)
            target = targets.get(label)
            flag = ""
            if target:
                flag = f"{target:5.1f}x {'ok' if b / a <= target else 'MISS'}"
                ok &= b / a <= target
            print(f"{label:34} {a:6.3f}s ({min(lite):.2f}-{max(lite):.2f}) "
                  f"{b:6.3f}s ({min(pgs):.2f}-{max(pgs):.2f}) {b / a:6.2f} {flag}")
        backends[1].fresh_store()
        sys.exit(0 if ok else 1)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
