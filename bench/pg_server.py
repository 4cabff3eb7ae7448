"""A PostgreSQL server for the backend benchmarks, set up as users run one.

The test suite's throwaway cluster (tests/pg.py) switches durability off for speed; measured
against that, PostgreSQL would look quicker than any real server. Here the same cluster runs
with the server's default durability (fsync, full_page_writes, synchronous_commit on), or an
existing server is used as given (``--pg-url``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

DURABLE = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on",
           "wal_level": "replica", "max_wal_senders": "10", "shared_buffers": "128MB"}
# Subprocesses measured as installed software runs (byte-code caches on) and never pointed at
# a developer's own shared store.
ENV = {k: v for k, v in os.environ.items()
       if k not in ("PYTHONDONTWRITEBYTECODE", "FEEDKIT_STORE_URL")}


def start_durable():
    """A throwaway cluster with default durability (``.url``, ``.stop()``); SystemExit with
    what to install when there are no PostgreSQL binaries."""
    import pg

    bindir = pg.find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries: install Debian's postgresql or give --pg-url")
    return pg.start_cluster(bindir, DURABLE)


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds ``cmd`` took; the benchmark stops with its stderr when it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} (in {cwd}) failed: {done.stderr.decode()[-2000:]}")
    return elapsed
