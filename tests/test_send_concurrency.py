"""Several `feedkit digest send` processes on one store (issue 11): each reader exactly once.

The real command in its own processes, started at once, against one store (a SQLite file, or a
schema on the test session's PostgreSQL), and one real aiosmtpd server on 127.0.0.1 that counts
every complete DATA transaction per recipient: a reader claimed by two runs would be counted
twice. The send log is read back with sqlite3 / psycopg, and each reader's key is computed here
(HMAC-SHA256), not by feedkit.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pg
import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    Behaviour,
    RecordingHandler,
    korean_articles,
    write_config_toml,
)

SECRET = "concurrency-test-secret-0123456789"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
REPO = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"2024-W24: (\d+) sent, (\d+) already sent, (\d+) failed, (\d+) deferred")


def key(address: str) -> str:
    """The send-log key, computed here independently of feedkit.privacy."""
    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest()


def rows(backend: pg.Backend, sql: str, *params) -> list[tuple]:
    """Read the store as an outside client does: sqlite3 for the file, psycopg (in the test's
    schema) for PostgreSQL."""
    if backend.is_pg:
        with pg.connect(backend.url) as conn:
            conn.execute(f'SET search_path TO "{backend.schema}"')
            return conn.execute(sql.replace("?", "%s"), params).fetchall()
    import sqlite3

    with sqlite3.connect(backend.path) as db:
        return db.execute(sql, params).fetchall()


def log(backend: pg.Backend, readers: list[str]) -> dict[str, str]:
    """The week's send log by address (every key in it must be one of ``readers``')."""
    by_key = {key(a): a for a in readers}
    return {by_key[r]: s for r, s in rows(
        backend, "SELECT recipient, status FROM send_log WHERE week = '2024-W24'")}


def site(folder: Path, backend: pg.Backend, port: int, readers: list[str],
         connections: int) -> Path:
    """A site folder on ``backend``: config.toml (readers from readers.txt) and a store holding
    a week of articles (2024-W24)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "readers.txt").write_text("\n".join(readers) + "\n", encoding="utf-8")
    backend.path = folder / "articles.db"
    store = backend.open_store()
    with store.transaction():
        store.upsert(korean_articles(6, W24))
    store.close()
    return write_config_toml(folder, SITE_AND_SENDER_TOML + f"""\
recipients_file = "readers.txt"
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 20
connections = {connections}

{backend.store_lines()}""")


def start_send(config: Path, backend: pg.Backend) -> subprocess.Popen:
    """`feedkit digest send --week 2024-W24` in its own process, as from a shell."""
    env = backend.env({**os.environ, "FEEDKIT_SECRET": SECRET, "PYTHONPATH": str(REPO)})
    return subprocess.Popen(
        [sys.executable, "-m", "feedkit", "--config", str(config), "digest", "send", "--week",
         "2024-W24"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen], timeout: float = 120) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
        out.append((p.returncode, stdout, stderr))
    return out


def sent_counts(results) -> list[int]:
    counts = []
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "Traceback" not in stderr
        m = SUMMARY.search(stdout)
        assert m, stdout
        counts.append(int(m.group(1)))
    return counts


class Server:
    """aiosmtpd on loopback; ``hold`` keeps each message's reply until ``peers`` client
    connections have shown up (at most ``hold_for`` seconds), so that every sender process is
    connected and sending before any of them can finish the list alone."""

    def __init__(self, peers: int = 0, hold_for: float = 10.0):
        self.handler = RecordingHandler(Behaviour())
        self.peers: set[int] = set()
        self.want, self.hold_for = peers, hold_for
        original = self.handler.handle_DATA

        async def handle_DATA(server, session, envelope):
            self.peers.add(session.peer[1])
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.hold_for
            while len(self.peers) < self.want and loop.time() < deadline:
                await asyncio.sleep(0.01)
            return await original(server, session, envelope)

        self.handler.handle_DATA = handle_DATA

    def __enter__(self):
        import socket

        from aiosmtpd.controller import Controller

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def counts(self) -> dict[str, int]:
        return self.handler.count_by_recipient()


def test_two_senders_at_once_on_one_store_never_send_twice(tmp_path, backend):
    """Two processes, two connections each, 300 readers, one store (SQLite file or PostgreSQL):
    the server holds its replies until all four connections are there, so both runs are
    sending at the same time; every reader gets exactly one message, both runs sent some, and
    their own summaries add up to the list (each says how many the other one took)."""
    readers = [f"two{i:03d}@example.com" for i in range(300)]
    with Server(peers=4) as server:
        config = site(tmp_path, backend, server.port, readers, connections=2)
        results = finish([start_send(config, backend) for _ in range(2)])
        counts = server.counts()
    sent = sent_counts(results)
    assert counts == dict.fromkeys(readers, 1)
    assert len(server.handler.received) == 300
    assert sum(sent) == 300 and min(sent) > 0, sent
    for (_code, stdout, _err), mine in zip(results, sent, strict=True):
        assert f"{300 - mine} sent or being sent by another run at the same time" in stdout
    assert log(backend, readers) == dict.fromkeys(readers, "sent")
    assert rows(backend, "SELECT count(*) FROM send_claims") == [(0,)]   # each tidied up


@pytest.fixture
def pg_backend(tmp_path, pg_schema) -> pg.Backend:
    return pg.Backend("postgresql", tmp_path, pg_schema)


def test_four_senders_at_once_2000_readers_each_exactly_once(tmp_path, pg_backend):
    """Issue 11: four `digest send` processes started at once for the same week, 2,000
    readers, three connections each, on PostgreSQL: every reader one complete message."""
    readers = [f"reader{i:04d}@example.com" for i in range(2000)]
    with Server(peers=12) as server:
        config = site(tmp_path, pg_backend, server.port, readers, connections=3)
        results = finish([start_send(config, pg_backend) for _ in range(4)])
        counts = server.counts()
    sent = sent_counts(results)
    assert counts == dict.fromkeys(readers, 1)
    assert len(server.handler.received) == 2000
    assert sum(sent) == 2000 and min(sent) > 0, sent
    assert log(pg_backend, readers) == dict.fromkeys(readers, "sent")
    assert rows(pg_backend, "SELECT count(*) FROM send_claims") == [(0,)]


class StallingServer(Server):
    """Takes messages until ``after`` have been accepted; from then on every connection is
    held at MAIL FROM (no message is accepted any more) until ``release()``."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after
        self.stalled: set[int] = set()
        self.released = threading.Event()
        handler = self.handler

        async def handle_MAIL(server, session, envelope, address, mail_options):
            if len(handler.received) >= self.after and not self.released.is_set():
                self.stalled.add(session.peer[1])
                while not self.released.is_set():
                    await asyncio.sleep(0.02)
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        handler.handle_MAIL = handle_MAIL

    def release(self) -> None:
        self.released.set()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_sender_killed_half_way_leaves_its_claims_to_the_next_run(tmp_path, pg_backend):
    """2,000 readers, one sender with four connections on PostgreSQL. Once 1,000 messages are
    in, the server holds every connection at MAIL FROM, so no message is in flight when the
    test SIGKILLs the sender: the at-least-once window is empty on purpose, and "nobody gets
    two" is exact. The killed run leaves its claimed readers (the one each connection was
    handing over, logged "sending", and the rest of its batches) and no lock; a second run
    takes them over and finishes the list: every reader exactly one complete message."""
    readers = [f"kill{i:04d}@example.com" for i in range(2000)]
    with StallingServer(after=1000) as server:
        config = site(tmp_path, pg_backend, server.port, readers, connections=4)
        first = start_send(config, pg_backend)
        try:
            wait_for(lambda: len(server.stalled) == 4 or first.poll() is not None, 90,
                     "four connections held at MAIL FROM")
            assert first.poll() is None, first.communicate()
            # The log is written before each hand-over: four "sending", the 1,000 sent.
            wait_for(lambda: sorted(log(pg_backend, readers).values()).count("sending") == 4,
                     30, "four readers logged as sending")
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
        assert first.returncode == -signal.SIGKILL
        at_kill = log(pg_backend, readers)
        statuses = sorted(at_kill.values())
        # Connections that passed MAIL FROM together as the 1,000th came in finish theirs.
        before = len(server.handler.received)
        assert 1000 <= before <= 1003
        assert statuses.count("sent") == before and statuses.count("sending") == 4
        assert len(statuses) == before + 4
        claimed = {r for r, in rows(pg_backend, "SELECT recipient FROM send_claims")}
        sending = {key(a) for a, s in at_kill.items() if s == "sending"}
        assert sending <= claimed   # claims of the dead run, not yet freed
        server.release()

        second = finish([start_send(config, pg_backend)])
        [done] = sent_counts(second)
        counts = server.counts()
    assert done == 2000 - before and f"{before} already sent" in second[0][1]
    assert counts == dict.fromkeys(readers, 1)
    assert log(pg_backend, readers) == dict.fromkeys(readers, "sent")
    assert rows(pg_backend, "SELECT count(*) FROM send_claims") == [(0,)]
