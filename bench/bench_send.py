"""Benchmark sending: feedkit's `digest send` against a bare smtplib loop, same server, same
number of connections (issue 14 item 10).

One process tree: this script starts an aiosmtpd server (a sink that accepts and drops each
message) in a child process on 127.0.0.1, then, in this process, runs

* **bare**: N threads, each with one smtplib connection, sending one pre-rendered message (the
  digest as feedkit builds it for the first reader) to every address: the ceiling;
* **feedkit**: ``send_week`` with ``connections = N``, the same addresses, a real store and
  send log: it renders the week once, builds each reader's message (own Message-ID, To and
  personal unsubscribe link), writes the log before and after each hand-over;

for N = 1 and N = --connections, then a rate-limited feedkit run (``max_per_second``) to check
the limit is honoured, and a cProfile of feedkit at one connection (top functions by own time).

Usage: python bench/bench_send.py [--recipients 5000] [--connections 4] [--rate 50]
       [--rate-recipients 1000] [--repeat 2] [--profile 1000]
Everything goes to bench/out/send/ (gitignored).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import queue
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_digest import synthetic_articles  # noqa: E402

from feedkit.config import parse_config  # noqa: E402
from feedkit.digest.week import Week  # noqa: E402
from feedkit.store.articles import Store  # noqa: E402

OUT = ROOT / "bench" / "out" / "send"
TZ = ZoneInfo("Asia/Seoul")
WEEK = "2024-W24"

SERVER = r"""
import asyncio, sys
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def make_site(port: int, recipients: list[str]):
    """A config and a store whose W24 holds 50 articles (a full-size digest, about 90 KiB)."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    os.environ["FEEDKIT_SECRET"] = "bench-secret-0123456789abcdef"
    os.environ["FEEDKIT_UNSUBSCRIBE_SECRET"] = "bench-unsubscribe-0123456789"
    os.environ["FEEDKIT_RECIPIENTS"] = "\n".join(recipients)
    data = {
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://news.example.org/boryeong/"},
        "store": {"path": "articles.db"},
        "digest": {"from": "보령시 소식 <news@example.org>", "recipients_env": "FEEDKIT_RECIPIENTS",
                   "unsubscribe": ["mailto:leave@lists.example.org",
                                   "https://news.example.org/unsubscribe/{token}"]},
        "smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "timeout": 30.0},
    }
    config = parse_config(data, OUT / "config.toml")
    week = Week.parse(WEEK, TZ)
    articles = [a for a in synthetic_articles(2000)
                if week.start <= a.published < week.end][:50]
    store = Store(OUT / "articles.db")
    with store.transaction():
        store.upsert(articles)
    return config, store, week


def bare_loop(port: int, message: bytes, recipients: list[str], connections: int) -> float:
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for r in recipients:
        todo.put(r)

    def worker() -> None:
        conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
        conn.ehlo()
        while True:
            try:
                rcpt = todo.get_nowait()
            except queue.Empty:
                break
            conn.sendmail("news@example.org", [rcpt], message)
        conn.quit()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def feedkit_send(config, store, week, connections: int, rate: float = 0.0) -> tuple[float, int]:
    from feedkit.mail.send import send_week

    store.db.execute("DELETE FROM send_log")
    start = time.perf_counter()
    report = send_week(config, store, week, now=datetime(2024, 6, 17, 8, tzinfo=TZ),
                       connections=connections, max_per_second=rate)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    return elapsed, len(report.sent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipients", type=int, default=5000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--rate", type=float, default=50.0,
                    help="messages/s for the rate-limit check; keep it under the capacity")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--rate-recipients", type=int, default=1000)
    ap.add_argument("--profile", type=int, default=1000, help="recipients profiled (0: skip)")
    args = ap.parse_args()

    port = free_port()
    server = start_server(port)
    try:
        recipients = [f"reader{i:05d}@example.com" for i in range(args.recipients)]
        config, store, week = make_site(port, recipients)
        from feedkit.digest.compose import load_digest
        from feedkit.digest.render import DigestRenderer
        from feedkit.mail.message import MessageFactory

        digest = load_digest(config, store, week)
        body = DigestRenderer(config).email(digest)
        factory = MessageFactory(config, digest, body, DigestRenderer(config).subject(digest),
                                 datetime(2024, 6, 17, 8, tzinfo=TZ))
        message = factory.message(recipients[0], "bench")[1]
        print(f"message: {len(message) / 1024:.1f} KiB, {digest.total} articles; "
              f"{len(recipients)} recipients; {os.cpu_count()} CPUs")
        n = len(recipients)
        for conns in sorted({1, args.connections}):
            # Interleaved, best of --repeat each: neither side gets a warmer server.
            bares, fks = [], []
            for _ in range(args.repeat):
                bares.append(bare_loop(port, message, recipients, conns))
                fk, sent = feedkit_send(config, store, week, conns)
                assert sent == n
                fks.append(fk)
            bare, fk = min(bares), min(fks)
            print(f"{conns} connection(s): bare smtplib {n / bare:7.1f} msg/s ({bare:6.2f} s)  "
                  f"feedkit {n / fk:7.1f} msg/s ({fk:6.2f} s)  feedkit/bare {bare / fk:.2f}")

        if args.rate > 0:
            m = args.rate_recipients
            os.environ["FEEDKIT_RECIPIENTS"] = "\n".join(recipients[:m])
            elapsed, sent = feedkit_send(config, store, week, args.connections, args.rate)
            # m hand-overs, evenly spaced 1/rate apart: the first at 0, the last at (m-1)/rate
            achieved = (sent - 1) / elapsed
            print(f"rate limit {args.rate:.0f}/s, {m} recipients, {args.connections} "
                  f"connections: {achieved:.1f} msg/s measured "
                  f"({(achieved / args.rate - 1) * 100:+.1f} %; elapsed {elapsed:.2f} s, "
                  f"ideal {(m - 1) / args.rate:.2f} s)")

        if args.profile:
            os.environ["FEEDKIT_RECIPIENTS"] = "\n".join(recipients[:args.profile])
            profiler = cProfile.Profile()
            profiler.enable()
            feedkit_send(config, store, week, 1)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
            print(f"profile of feedkit, {args.profile} recipients, 1 connection (own time):")
            print("\n".join(out.getvalue().splitlines()[:36]))
        store.close()
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
