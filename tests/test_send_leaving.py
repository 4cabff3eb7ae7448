"""Leaving while a send runs (issue 27, item 1): readers marked bounced by ``feedkit subscribers
bounces``, or erased by ``feedkit subscribers remove --erase``, in *other processes* while
``feedkit digest send`` is sending, get nothing, and the send log says why.

Everything is the real thing, each command in its own process as an operator's shell (or a
second machine) runs it: the sender on one store (a SQLite file, or a PostgreSQL schema), a real
aiosmtpd server on 127.0.0.1 that holds the digest's first reader at RCPT TO until the test has
done its part (so "while the send runs, before it reached them" is a fact checked in the store,
not a race), and a real Dovecot holding the delivery reports (tests/test_subscribers_bounces.py
starts it; skipped without dovecot). The reports are about the readers' real copies of the
previous week's digest, as a relay sends them a day later.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pg
from _digest_support import SEOUL, SITE_AND_SENDER_TOML, korean_articles, write_config_toml
from test_send_concurrency import REPO, SECRET, SUMMARY, Server, key, rows, wait_for
from test_subscribers_bounces import PASSWORD, _deliver, dovecot  # noqa: F401  (a fixture)

W23 = datetime(2024, 6, 3, tzinfo=SEOUL)
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
T0 = datetime(2024, 6, 1, tzinfo=UTC)
READERS = [f"reader{i:02d}@example.com" for i in range(60)]
BOUNCING = READERS[-10:-5]      # far behind the first batch the sender claims
ERASED = READERS[-5:]
LEAVING = BOUNCING + ERASED


class GateServer(Server):
    """Takes every message; once ``arm()`` is called, holds the RCPT TO of ``first`` until
    ``release()``."""

    def __init__(self, first: str):
        super().__init__()
        self.first = first
        self.armed, self.held, self.released = (threading.Event(), threading.Event(),
                                                threading.Event())
        original = self.handler.handle_RCPT

        async def handle_RCPT(server, session, envelope, address, options):
            if address == self.first and self.armed.is_set():
                self.held.set()
                while not self.released.is_set():
                    await asyncio.sleep(0.02)
            return await original(server, session, envelope, address, options)

        self.handler.handle_RCPT = handle_RCPT

    def arm(self) -> None:
        self.armed.set()

    def release(self) -> None:
        self.released.set()


def _site(tmp_path, backend: pg.Backend, smtp_port: int, imap_port: int):
    """Subscriber mode; 60 active readers (ids in list order); news in 2024-W23 and W24; the
    bounce mailbox on Dovecot, one hard bounce enough to stop a reader's mail."""
    from feedkit.subscribers import repo

    store = backend.open_store()
    with store.transaction():
        store.upsert(korean_articles(4, W23, prefix="w23-") + korean_articles(6, W24))
    for address in READERS:
        repo.add(store, address, [], "ko", "command", "v1", T0, T0)
    store.close()
    return write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
audience = "subscribers"
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
retries = 0
timeout = 30
connections = 1

[bounces]
host = "127.0.0.1"
port = {imap_port}
tls = "none"
user = "bounces"
max_consecutive = 1

{backend.store_lines()}""")


def _env(backend: pg.Backend) -> dict[str, str]:
    return backend.env({**os.environ, "FEEDKIT_SECRET": SECRET, "PYTHONPATH": str(REPO),
                        "PYTHONUNBUFFERED": "1", "FEEDKIT_BOUNCES_PASSWORD": PASSWORD})


def _start(config, backend: pg.Backend, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(config), *args],
                            env=_env(backend), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _run(config, backend: pg.Backend, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "feedkit", "--config", str(config), *args],
                          env=_env(backend), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _report_about(message) -> bytes:
    """The DSN a relay sends a day after it accepted ``message`` (a real copy of a digest)
    and then found the mailbox gone: RFC 3464, the original's headers attached."""
    recipient = message.rcpt[0]
    headers = message.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return ("From: MAILER-DAEMON@relay.example.org (Mail Delivery System)\r\n"
            "To: bounces@example.org\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            ' boundary="BOUND"\r\n\r\n'
            "--BOUND\r\nContent-Type: text/plain\r\n\r\nThe mailbox does not exist.\r\n"
            "--BOUND\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; relay.example.org\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            "Action: failed\r\nStatus: 5.1.1\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n"
            "--BOUND\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"{headers}\r\n"
            "--BOUND--\r\n").encode()


def _log(backend: pg.Backend) -> dict[str, tuple[str, str]]:
    """W24's send log: address -> (status, error)."""
    by_key = {key(a): a for a in READERS}
    return {by_key[r]: (s, e) for r, s, e in rows(
        backend, "SELECT recipient, status, error FROM send_log WHERE week = '2024-W24'")}


def test_readers_bounced_or_erased_by_other_processes_during_a_send_get_nothing(
        tmp_path, backend, dovecot):  # noqa: F811  (the fixture imported above)
    with GateServer(first=READERS[0]) as server:
        config = _site(tmp_path, backend, server.port, dovecot)
        # Last week's digest went to everyone; the relay reports five mailboxes gone since.
        _run(config, backend, "digest", "send", "--week", "2024-W23",
             "--now", (W24 + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M"))
        last_week = {m.rcpt[0]: m for m in server.handler.received}
        assert sorted(last_week) == sorted(READERS)
        server.handler.received.clear()

        server.arm()
        send = _start(config, backend, "digest", "send", "--week", "2024-W24")
        try:
            wait_for(lambda: server.held.is_set() or send.poll() is not None, 60,
                     "the send to reach its first reader")
            assert send.poll() is None, send.communicate()
            leaving = {key(a) for a in LEAVING}
            claimed = {r for r, in rows(backend, "SELECT recipient FROM send_claims")}
            assert claimed and not claimed & leaving   # the send runs; these not reached yet

            _deliver(dovecot, *(_report_about(last_week[a]) for a in BOUNCING))
            bounces = _run(config, backend, "subscribers", "bounces")
            assert "5 hard bounce(s) counted" in bounces.stdout + bounces.stderr
            assert "5 marked bounced" in bounces.stdout + bounces.stderr
            for address in ERASED:
                _run(config, backend, "subscribers", "remove", address, "--erase")

            status = dict(rows(backend, "SELECT address, status FROM subscribers"))
            assert {status[a] for a in BOUNCING} == {"bounced"}
            assert not set(ERASED) & set(status)
            assert send.poll() is None   # still held at its first reader
            server.release()
            out, err = send.communicate(timeout=120)
        finally:
            server.release()
            if send.poll() is None:
                send.kill()
                send.communicate()
        got = server.counts()

    assert send.returncode == 0, err
    assert got == {a: 1 for a in READERS if a not in LEAVING}
    m = SUMMARY.search(out)
    assert m and m.group(1) == "50", out
    assert "10 left the list during the run (not sent)" in out
    log = _log(backend)
    assert {a: log[a] for a in BOUNCING} == dict.fromkeys(BOUNCING, ("skipped", "bounced"))
    assert {a: log[a] for a in ERASED} == dict.fromkeys(ERASED, ("skipped", "erased"))
    assert {log[a][0] for a in READERS if a not in LEAVING} == {"sent"}
    assert not any(a in out + err for a in READERS)   # no address in the normal output
