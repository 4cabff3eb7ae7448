"""Benchmark: ``feedkit store copy`` of a large store, each way between SQLite and PostgreSQL.

The store: N synthetic articles (bench/synth.py, imported with ``feedkit import``) and M
subscribers. Timed, as a user runs it (``feedkit -q store copy`` in a subprocess, start-up
included), median of --repeat runs:

  SQLite -> PostgreSQL, into a fresh schema      then again into the same one (nothing to do)
  PostgreSQL -> SQLite, into a fresh file        then again into the same one (nothing to do)

PostgreSQL runs with the server's default durability (a throwaway cluster on loopback, like
bench_backends.py), or ``--pg-url`` for an existing server (a schema is made and dropped).

Usage: python bench/bench_store_copy.py [--articles 20000] [--subscribers 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pg_server import start_durable, timed  # noqa: E402
from synth import SITE_TOML, write_jsonl  # noqa: E402

BIN = Path(sys.executable).parent
CONFIG = SITE_TOML + """\
[store]
{store}
[build]
out = "public"
"""


def site(root: Path, store: str) -> Path:
    root.mkdir()
    (root / "config.toml").write_text(CONFIG.format(store=store), encoding="utf-8")
    return root


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--subscribers", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg-url", default="")
    args = ap.parse_args()
    feedkit = str(BIN / "feedkit")
    root = Path(tempfile.mkdtemp(prefix="feedkit-bench-copy-"))
    cluster = None
    schemas: list[str] = []
    try:
        url = args.pg_url
        if not url:
            cluster = start_durable()
            url = cluster.url
        lite = site(root / "lite", 'path = "store.db"')
        timed([feedkit, "-q", "import", str(write_jsonl(root / "a.jsonl", args.articles))], lite)
        from feedkit.store.articles import Store
        from feedkit.subscribers import repo

        now = datetime(2024, 6, 1, tzinfo=UTC)
        with Store(lite / "store.db") as store, store.transaction():
            for i in range(args.subscribers):
                repo.add(store, f"resident{i:05d}@example.com", (), "ko", "import", "bench",
                         now, now)
        size = (lite / "store.db").stat().st_size
        times: dict[str, list[float]] = {}
        for n in range(args.repeat):
            schema = f"bench_copy_{uuid.uuid4().hex[:8]}"
            schemas.append(schema)
            copy = [feedkit, "-q", "store", "copy", "--to", url, "--schema", schema]
            times.setdefault("SQLite -> PostgreSQL (fresh schema)", []).append(timed(copy, lite))
            times.setdefault("SQLite -> PostgreSQL (again: 0 rows)", []).append(timed(copy, lite))
            pgsite = root / f"pg{n}"
            site(pgsite, f'url = "{url}"\nschema = "{schema}"')
            back = root / f"back{n}.db"
            copy = [feedkit, "-q", "store", "copy", "--to", str(back)]
            times.setdefault("PostgreSQL -> SQLite (fresh file)", []).append(timed(copy, pgsite))
            times.setdefault("PostgreSQL -> SQLite (again: 0 rows)", []).append(
                timed(copy, pgsite))
        print(f"{args.articles} articles + {args.subscribers} subscribers "
              f"(SQLite file {size / 1e6:.1f} MB); median of {args.repeat} (min-max), "
              "whole command")
        for label, values in times.items():
            print(f"  {label:40} {statistics.median(values):6.2f}s "
                  f"({min(values):.2f}-{max(values):.2f})")
    finally:
        for schema in schemas:
            with contextlib.suppress(Exception):   # best effort: the cluster is thrown away
                drop_schema(url, schema)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
