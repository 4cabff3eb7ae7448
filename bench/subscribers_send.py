"""Benchmark personal digests (issue 15): `digest send` to 10,000 subscribers over 50 distinct
choices of departments, against a bare smtplib loop, in one process tree against the same
loopback aiosmtpd server (a sink in a child process, as in bench_send.py). Target: feedkit
within 1.25x the bare loop's time.

* **bare**: one smtplib connection sending 10,000 copies of one pre-rendered digest (the full
  week, every department: the issue's yardstick);
* **bare, same mix**: the same loop, each reader getting the pre-built message of their own
  choice (50 messages built before the clock starts): the same bytes feedkit sends, so a
  smaller personal digest does not flatter feedkit;
* **feedkit**: ``send_subscribers`` (what ``digest send`` runs with ``[digest] audience =
  "subscribers"``), timed from the store to the last hand-over: reading the subscribers,
  grouping them, rendering and inlining each of the 50 editions, signing two personal links per
  reader, building each message, and the send log before and after each hand-over.

Then a cProfile of a smaller feedkit run (top functions by own time).

Usage: python bench/subscribers_send.py [--subscribers 10000] [--choices 50] [--connections 1]
       [--profile 2000]
Everything goes to bench/out/subscribers_send/ (gitignored).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import smtplib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_digest import synthetic_articles  # noqa: E402
from bench_send import free_port, start_server  # noqa: E402

from feedkit.config import parse_config  # noqa: E402
from feedkit.digest.week import Week  # noqa: E402
from feedkit.store.articles import Store  # noqa: E402

OUT = ROOT / "bench" / "out" / "subscribers_send"
TZ = ZoneInfo("Asia/Seoul")
WEEK = "2024-W24"
NOW = datetime(2024, 6, 17, 8, tzinfo=TZ)
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def make_site(port: int, connections: int):
    """A config (with ``[web] url``: signed personal links) and a store whose
    W24 holds 50 articles over the synthetic departments."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    os.environ["FEEDKIT_SECRET"] = "bench-secret-0123456789abcdef"
    os.environ["FEEDKIT_UNSUBSCRIBE_SECRET"] = "bench-unsubscribe-0123456789"
    data = {
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://news.example.org/boryeong/"},
        "store": {"path": "articles.db"},
        "digest": {"from": "보령시 소식 <news@example.org>", "audience": "subscribers",
                   "unsubscribe": ["mailto:leave@lists.example.org",
                                   "https://news.example.org/unsubscribe/{token}"]},
        "smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "timeout": 30.0,
                 "connections": connections},
        "web": {"url": "https://news.example.org/list/"},
    }
    config = parse_config(data, OUT / "config.toml")
    week = Week.parse(WEEK, TZ)
    articles = [a for a in synthetic_articles(2000) if week.start <= a.published < week.end][:50]
    store = Store(OUT / "articles.db")
    with store.transaction():
        store.upsert(articles)
    return config, store, week, articles


def choices_for(articles, n: int, seed: int = 15) -> list[tuple[str, ...]]:
    """``n`` distinct choices that each give a different, non-empty digest: every department,
    then random sets of 2 to 5 departments with news (what a resident ticks on the form)."""
    import random

    rng = random.Random(seed)
    present = sorted({a.category for a in articles if a.category})
    out: list[tuple[str, ...]] = [()]
    seen = {()}
    while len(out) < n:
        combo = tuple(sorted(rng.sample(present, rng.randint(2, 5))))
        if combo not in seen:
            seen.add(combo)
            out.append(combo)
    return out


def add_subscribers(store, count: int, choices: list[tuple[str, ...]]) -> list[str]:
    from feedkit.subscribers import repo

    addresses = [f"resident{i:05d}@example.com" for i in range(count)]
    with store.transaction():
        for i, a in enumerate(addresses):
            repo.add(store, a, choices[i % len(choices)], "ko", "import", "bench", T0, T0)
    return addresses


def bare_loop(port: int, messages: list[bytes]) -> float:
    """One connection, one ``sendmail`` per message: the wire's own speed."""
    start = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    for i, message in enumerate(messages):
        conn.sendmail("news@example.org", [f"resident{i:05d}@example.com"], message)
    conn.quit()
    return time.perf_counter() - start


def edition_messages(config, store, week, articles, choices) -> dict[tuple[str, ...], bytes]:
    """One pre-built message per choice (as feedkit builds it for a reader of that choice)."""
    from feedkit.digest.compose import make_digest
    from feedkit.digest.render import DigestRenderer
    from feedkit.mail.message import MessageFactory

    renderer = DigestRenderer(config)
    out = {}
    for choice in choices:
        chosen = [a for a in articles if not choice or a.category in choice]
        digest = make_digest(config, week, sorted(chosen, key=lambda a: a.published,
                                                  reverse=True))
        body = renderer.email(digest)
        factory = MessageFactory(config, digest, body, renderer.subject(digest), NOW)
        out[choice] = factory.message("resident00000@example.com", "bench")[1]
    return out


def feedkit_send(config, store, week, expected: int) -> tuple[float, object]:
    from feedkit.mail.personal import send_subscribers

    store.db.execute("DELETE FROM send_log")
    start = time.perf_counter()
    report = send_subscribers(config, store, week, now=NOW)
    elapsed = time.perf_counter() - start
    assert report.ok and len(report.sent) == expected, report.summary()
    return elapsed, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--choices", type=int, default=50)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--profile", type=int, default=2000, help="subscribers profiled (0: skip)")
    args = ap.parse_args()

    port = free_port()
    server = start_server(port)
    try:
        config, store, week, articles = make_site(port, args.connections)
        choices = choices_for(articles, args.choices)
        assert len(choices) == args.choices, f"only {len(choices)} distinct choices"
        addresses = add_subscribers(store, args.subscribers, choices)
        n = len(addresses)
        per_choice = edition_messages(config, store, week, articles, choices)
        full = per_choice[()]
        mix = [per_choice[choices[i % len(choices)]] for i in range(n)]
        links = "[web] url" if config.web.url else "[digest] unsubscribe {token}"
        departments = len({a.category for a in articles})
        print(f"{n} subscribers over {len(choices)} choices of {departments} departments; "
              f"personal links from {links}; {os.cpu_count()} CPUs; "
              f"{args.connections} connection(s)")
        print(f"full digest {len(full) / 1024:.1f} KiB; mean message of the mix "
              f"{sum(map(len, mix)) / n / 1024:.1f} KiB")
        # Interleaved, so no side gets a warmer server.
        bare = bare_loop(port, [full] * n)
        fk, report = feedkit_send(config, store, week, n)
        same = bare_loop(port, mix)
        print(f"bare smtplib, one digest x{n}:   {bare:7.2f} s  {n / bare:6.1f} msg/s")
        print(f"bare smtplib, the same mix:      {same:7.2f} s  {n / same:6.1f} msg/s")
        print(f"feedkit digest send (personal):  {fk:7.2f} s  {n / fk:6.1f} msg/s  "
              f"({report.editions} editions rendered)")
        print(f"ratio feedkit / bare one digest: {fk / bare:.3f}  (target <= 1.25)")
        print(f"ratio feedkit / bare same mix:   {fk / same:.3f}")

        if args.profile:
            from feedkit.subscribers import repo

            with store.transaction():
                store.db.execute("UPDATE subscribers SET status = 'unsubscribed' WHERE id > ?",
                                 (args.profile,))
            profiler = cProfile.Profile()
            profiler.enable()
            feedkit_send(config, store, week, args.profile)
            profiler.disable()
            assert repo.count(store)["active"] == args.profile
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(16)
            print(f"profile of feedkit, {args.profile} subscribers (own time):")
            print("\n".join(out.getvalue().splitlines()[:40]))
        store.close()
    finally:
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
