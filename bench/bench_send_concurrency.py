"""Benchmark several senders (issue 11): `feedkit digest send` processes on one store.

Each run is the real command (``python -m feedkit digest send --week 2024-W24``) in its own
process(es), against an aiosmtpd sink (accepts and drops every message) in a child process on
127.0.0.1, with a full-size digest (50 articles). Wall time is from starting the sender(s) to
the last one exiting (process start-up, rendering and the send log included).

* **PostgreSQL**: one sender vs four started at once, ``[smtp] connections`` each, N readers
  (default 10,000), a fresh schema per run on a throwaway cluster (tests/pg.py starts one) or on
  ``$FEEDKIT_BENCH_PG_URL``.
* **SQLite, before/after**: one sender on a SQLite file with this tree's feedkit and with the
  feedkit/ of ``--before`` (a git revision, unpacked into a temporary folder): the claims must
  not make the ordinary single-sender send slower.

Usage: python bench/bench_send_concurrency.py [--recipients 10000] [--connections 3]
       [--repeat 2] [--before bda6ee3] [--skip-pg] [--skip-sqlite]
Everything goes to bench/out/send_concurrency/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_send import free_port, start_server  # noqa: E402

OUT = ROOT / "bench" / "out" / "send_concurrency"
WEEK = "2024-W24"
SECRET = "bench-secret-0123456789abcdef"


def articles_file() -> Path:
    """The 50 articles of 2024-W24 as JSON Lines, the source every run imports."""
    from bench_digest import synthetic_articles

    from feedkit.digest.week import Week

    week = Week.parse(WEEK, synthetic_articles(1)[0].published.tzinfo)
    chosen = [a for a in synthetic_articles(2000) if week.start <= a.published < week.end][:50]
    path = OUT / "articles.jsonl"
    path.write_text("".join(json.dumps(a.to_record(), ensure_ascii=False) + "\n"
                            for a in chosen), encoding="utf-8")
    return path


def make_site(folder: Path, port: int, readers: int, connections: int, store: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "readers.txt").write_text(
        "".join(f"reader{i:05d}@example.com\n" for i in range(readers)), encoding="utf-8")
    config = folder / "config.toml"
    config.write_text(f"""\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"
timezone = "Asia/Seoul"

[[sources]]
kind = "jsonl"
path = "{(OUT / 'articles.jsonl').as_posix()}"

{store}
[digest]
from = "보령시 소식 <news@example.org>"
recipients_file = "readers.txt"
unsubscribe = ["mailto:leave@lists.example.org", "https://news.example.org/u/{{token}}"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
timeout = 60
connections = {connections}
""", encoding="utf-8")
    return config


def feedkit(code: Path, config: Path, *args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(config), *args],
                            env={**env, "PYTHONPATH": str(code)}, cwd=config.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def timed_send(code: Path, config: Path, senders: int, env: dict[str, str]) -> tuple[float, str]:
    done = feedkit(code, config, "import", env=env).communicate()
    start = time.perf_counter()
    procs = [feedkit(code, config, "digest", "send", "--week", WEEK, env=env)
             for _ in range(senders)]
    outs = [p.communicate() for p in procs]
    elapsed = time.perf_counter() - start
    for p, (out, err) in zip(procs, outs, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"digest send exited {p.returncode}: {err or out} {done}")
    return elapsed, " | ".join(o.strip().splitlines()[-1] for o, _ in outs)


def pg_runs(args, port: int) -> None:
    import pg

    url = os.environ.get("FEEDKIT_BENCH_PG_URL")
    cluster = None
    if not url:
        bindir = pg.find_bindir()
        if bindir is None:
            print("PostgreSQL: no server binaries; skipped")
            return
        cluster = pg.start_cluster(bindir, parent=Path(tempfile.gettempdir()))
        url = cluster.url
    try:
        n = args.recipients
        for senders in (1, 4, 1, 4)[:2 * args.repeat]:
            schema = pg.new_schema_name()
            folder = OUT / f"pg-{senders}-{schema}"
            config = make_site(folder, port, n, args.connections,
                               f'[store]\nschema = "{schema}"\n')
            env = {**os.environ, "FEEDKIT_SECRET": SECRET, "FEEDKIT_STORE_URL": url,
                   "FEEDKIT_UNSUBSCRIBE_SECRET": SECRET}
            elapsed, summary = timed_send(ROOT, config, senders, env)
            pg.drop_schema(url, schema)
            print(f"PostgreSQL, {senders} sender(s) x {args.connections} connections, {n} "
                  f"readers: {elapsed:6.2f} s, {n / elapsed:6.1f} msg/s   [{summary}]",
                  flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


def sqlite_runs(args, port: int) -> None:
    n = args.recipients
    before = Path(tempfile.mkdtemp(prefix="feedkit-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "feedkit",
                              "templates"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    try:
        for round_ in range(args.repeat):
            for name, code in (("before", before), ("after", ROOT)):
                folder = OUT / f"sqlite-{name}-{round_}"
                config = make_site(folder, port, n, args.connections,
                                   '[store]\npath = "articles.db"\n')
                env = {k: v for k, v in os.environ.items() if k != "FEEDKIT_STORE_URL"}
                env["FEEDKIT_SECRET"] = env["FEEDKIT_UNSUBSCRIBE_SECRET"] = SECRET
                elapsed, _summary = timed_send(code, config, 1, env)
                print(f"SQLite, 1 sender x {args.connections} connections, {n} readers, "
                      f"{name:6s} ({args.before if name == 'before' else 'this tree'}): "
                      f"{elapsed:6.2f} s, {n / elapsed:6.1f} msg/s", flush=True)
    finally:
        shutil.rmtree(before, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipients", type=int, default=10000)
    ap.add_argument("--connections", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--before", default="bda6ee3",
                    help="git revision without claims, for the SQLite comparison")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    articles_file()
    port = free_port()
    server = start_server(port)
    print(f"{os.cpu_count()} CPUs; aiosmtpd sink on 127.0.0.1:{port}", flush=True)
    try:
        if not args.skip_pg:
            pg_runs(args, port)
        if not args.skip_sqlite:
            sqlite_runs(args, port)
    finally:
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    main()
