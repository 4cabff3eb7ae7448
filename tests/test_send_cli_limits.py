"""`feedkit digest send --max-per-second` and `--connections`, as a user runs them: the real
command in its own process, a real aiosmtpd server on 127.0.0.1, the real clock. What is checked
is what the server saw: when each RCPT TO arrived (the server's own monotonic clock), on which
connection, and for whom (issue 12).

Timing is asserted only where load cannot make it fail: a lower bound on how long rate-limited
arrivals are spread (a busy machine makes a run slower, never faster), and, for an unlimited
run, that some two arrivals came closer together than the limit would allow (any one quick pair
of twelve is enough)."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)

SECRET = "limits-test-secret-0123456789abcdef"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)


def _key(address: str) -> str:
    """The send-log key, computed here independently of feedkit.privacy."""
    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest()


def _folder(tmp_path: Path, port: int, readers: list[str], smtp_extra: str = "") -> Path:
    """A site folder: config.toml reading its readers from readers.txt, and a store with a
    week of articles (2024-W24)."""
    (tmp_path / "readers.txt").write_text("\n".join(readers) + "\n", encoding="utf-8")
    store_with(tmp_path, korean_articles(6, W24)).close()
    return write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
recipients_file = "readers.txt"
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 10
{smtp_extra}""")


def _send(config_path: Path, *options: str) -> subprocess.CompletedProcess:
    """`feedkit digest send --week 2024-W24 OPTIONS` in a child process, as from a shell."""
    cmd = [sys.executable, "-m", "feedkit", "--config", str(config_path), "digest", "send",
           "--week", "2024-W24", *options]
    env = {**os.environ, "FEEDKIT_SECRET": SECRET,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


class _Arrivals:
    """Every RCPT TO the server is given: (server monotonic time, client port, address)."""

    def __init__(self, handler):
        self.seen: list[tuple[float, int, str]] = []
        self.lock = threading.Lock()
        original = handler.handle_RCPT

        async def handle_RCPT(server, session, envelope, address, options):
            with self.lock:
                self.seen.append((time.monotonic(), session.peer[1], address))
            return await original(server, session, envelope, address, options)

        handler.handle_RCPT = handle_RCPT

    def times(self) -> list[float]:
        return sorted(t for t, _, _ in self.seen)

    def per_address(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, _, address in self.seen:
            counts[address] = counts.get(address, 0) + 1
        return counts

    def connections(self) -> set[int]:
        return {peer for _, peer, _ in self.seen}


READERS12 = [f"rate{i:02d}@example.com" for i in range(12)]


def test_max_per_second_spaces_arrivals_at_the_server_over_all_connections(tmp_path):
    """12 readers at 4 a second over the default 3 connections: the limiter's slots are 0.25 s
    apart, so the last RCPT TO comes at least 11 x 0.25 = 2.75 s after the first slot. The
    first arrival is a little after its slot (log commit, connect), so 2.25 s is asserted."""
    with smtp_server() as (handler, port):
        arrivals = _Arrivals(handler)
        config_path = _folder(tmp_path, port, READERS12)
        result = _send(config_path, "--max-per-second", "4")
        assert result.returncode == 0, result.stderr
        assert "2024-W24: 12 sent, 0 already sent, 0 failed, 0 deferred" in result.stdout
        assert handler.count_by_recipient() == dict.fromkeys(READERS12, 1)
    times = arrivals.times()
    assert len(times) == 12
    assert times[-1] - times[0] >= 2.25, [round(t - times[0], 3) for t in times]


def test_without_the_option_the_config_rate_counts_and_zero_lifts_it(tmp_path):
    """The same 12 readers: with no --max-per-second and no [smtp] max_per_second nothing holds
    them back, so some two RCPT TOs arrive well under a 4-a-second slot (0.25 s) apart; and
    `--max-per-second 0` lifts an [smtp] max_per_second = 0.5 for the run (at 0.5 a second the
    12 would need 22 s, and no two would come closer than about 2 s)."""
    for case, smtp_extra, options in [("default", "", ()),
                                      ("lifted", "max_per_second = 0.5\n",
                                       ("--max-per-second", "0"))]:
        folder = tmp_path / case
        folder.mkdir()
        with smtp_server() as (handler, port):
            arrivals = _Arrivals(handler)
            config_path = _folder(folder, port, READERS12, smtp_extra)
            result = _send(config_path, *options)
            assert result.returncode == 0, result.stderr
            assert handler.count_by_recipient() == dict.fromkeys(READERS12, 1)
        times = arrivals.times()
        assert len(times) == 12
        closest = min(b - a for a, b in pairwise(times))
        assert closest < 0.1, (case, [round(t - times[0], 3) for t in times])


def test_four_connections_and_300_readers_each_get_exactly_one_copy_then_a_rerun_sends_none(
        tmp_path):
    """300 readers over `--connections 4`: the server counts every RCPT TO per address (a
    reader taken by two connections would be counted twice, even if one copy were refused),
    sees four client connections, and each message it takes is addressed to the reader it was
    delivered to (no connection sends one reader's message to another). A rerun of the same
    week sends nothing: not one RCPT TO more."""
    readers = [f"reader{i:03d}@example.com" for i in range(300)]
    with smtp_server() as (handler, port):
        arrivals = _Arrivals(handler)
        config_path = _folder(tmp_path, port, readers)
        first = _send(config_path, "--connections", "4")
        assert first.returncode == 0, first.stderr
        assert "2024-W24: 300 sent, 0 already sent, 0 failed, 0 deferred" in first.stdout
        assert arrivals.per_address() == dict.fromkeys(readers, 1)
        assert len(arrivals.connections()) == 4
        assert len(handler.received) == 300
        message_ids = set()
        for got in handler.received:
            assert got.rcpt == [got.message["To"]]
            message_ids.add(got.message["Message-ID"])
        assert len(message_ids) == 300

        again = _send(config_path, "--connections", "4")
        assert again.returncode == 0, again.stderr
        assert "2024-W24: 0 sent, 300 already sent, 0 failed, 0 deferred" in again.stdout
        assert len(arrivals.seen) == 300 and len(handler.received) == 300
    with sqlite3.connect(tmp_path / "articles.db") as db:
        log = dict(db.execute("SELECT recipient, status FROM send_log WHERE week = '2024-W24'"))
    assert log == {_key(r): "sent" for r in readers}
