"""`feedkit web` and `feedkit digest send` at once on one PostgreSQL store (issue 11): readers
who unsubscribe (RFC 8058 one-click POST to the real waitress server) before the send has
claimed them get nothing; someone who subscribes meanwhile does not disturb the send.

Both commands run in their own processes, as on two machines sharing the store. The SMTP server
(aiosmtpd on loopback) holds the digest's first reader at RCPT TO until the test has done its
clicks, so "before its claim" is a fact the test checks in the store, not a race it hopes to
win.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pg
import pytest
from _digest_support import SEOUL, SITE_AND_SENDER_TOML, korean_articles, write_config_toml
from _web_support import Client, links_in, path_of
from test_send_concurrency import REPO, SUMMARY, Server, key, rows, wait_for

SECRET = "concurrency-test-secret-0123456789"   # the send log's and the links' key
WEB_URL = "https://news.example.org/list/"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
T0 = datetime(2024, 6, 1, tzinfo=UTC)
READERS = [f"sub{i:02d}@example.com" for i in range(60)]
LEAVING = READERS[-10:]          # far behind the first batch the sender claims
NEWCOMER = "new.reader@example.org"


class HoldingServer(Server):
    """Holds RCPT TO for ``first`` until ``release()``; every other message goes through (the
    endpoint's confirmation email among them)."""

    def __init__(self, first: str):
        super().__init__()
        self.first, self.held = first, threading.Event()
        self.released = threading.Event()
        original = self.handler.handle_RCPT

        async def handle_RCPT(server, session, envelope, address, options):
            if address == self.first and not self.released.is_set():
                self.held.set()
                while not self.released.is_set():
                    await asyncio.sleep(0.02)
            return await original(server, session, envelope, address, options)

        self.handler.handle_RCPT = handle_RCPT

    def release(self) -> None:
        self.released.set()


def _site(tmp_path, backend: pg.Backend, port: int):
    """Subscriber mode with [web] url; 60 active readers (ids in list order), a week of news."""
    from feedkit.subscribers import repo

    store = backend.open_store()
    with store.transaction():
        store.upsert(korean_articles(6, W24))
    for address in READERS:
        repo.add(store, address, [], "ko", "command", "v1", T0, T0)
    store.close()
    return write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
audience = "subscribers"
unsubscribe = "mailto:leave@lists.example.org"

[web]
url = "{WEB_URL}"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retries = 0
timeout = 30
connections = 1

{backend.store_lines()}""")


def _start(config, backend: pg.Backend, *args: str) -> subprocess.Popen:
    env = backend.env({**os.environ, "FEEDKIT_SECRET": SECRET, "PYTHONPATH": str(REPO),
                       "PYTHONUNBUFFERED": "1"})
    return subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(config), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _web_port(proc: subprocess.Popen) -> int:
    for line in proc.stdout:
        m = re.search(r"http://127\.0\.0\.1:(\d+)/subscribe", line)
        if m:
            return int(m.group(1))
    raise AssertionError(proc.stderr.read())


@pytest.fixture
def pg_backend(tmp_path, pg_schema) -> pg.Backend:
    return pg.Backend("postgresql", tmp_path, pg_schema)


def test_readers_who_unsubscribe_before_their_claim_get_nothing(tmp_path, pg_backend):
    from feedkit.subscribers.links import personal_urls  # the links their digests carry

    with HoldingServer(first=READERS[0]) as server:
        config = _site(tmp_path, pg_backend, server.port)
        web = _start(config, pg_backend, "web", "--port", "0")
        send = None
        try:
            port = _web_port(web)
            send = _start(config, pg_backend, "digest", "send", "--week", "2024-W24")
            wait_for(lambda: server.held.is_set() or send.poll() is not None, 60,
                     "the send to reach its first reader")
            assert send.poll() is None, send.communicate()
            ids = {a: (i, k) for a, i, k in rows(pg_backend, "SELECT address, id, link_key "
                                                              "FROM subscribers")}
            leaving = {key(a) for a in LEAVING}
            claimed = {r for r, in rows(pg_backend, "SELECT recipient FROM send_claims")}
            assert claimed and not claimed & leaving   # the send runs; these are not claimed

            for address in LEAVING:   # what a mail provider's one-click does
                url = personal_urls(WEB_URL, SECRET, *ids[address])["unsubscribe"]
                reply = Client(port).post(path_of(url), {"List-Unsubscribe": "One-Click"})
                assert reply.status == 200, reply.body
            # Someone subscribes and confirms meanwhile, through the same endpoint.
            visitor = Client(port)
            assert visitor.subscribe(NEWCOMER).status == 303
            wait_for(lambda: any(m.rcpt == [NEWCOMER] for m in server.handler.received), 30,
                     "the confirmation email")
            [mail] = [m for m in server.handler.received if m.rcpt == [NEWCOMER]]
            link = next(u for u in links_in(mail.message.get_content()) if "/confirm/" in u)
            assert visitor.post(path_of(link)).status == 200

            left = dict(rows(pg_backend, "SELECT address, status FROM subscribers"))
            assert {left[a] for a in LEAVING} == {"unsubscribed"}
            assert left[NEWCOMER] == "active"
            claimed = {r for r, in rows(pg_backend, "SELECT recipient FROM send_claims")}
            assert not claimed & leaving   # they left before the send claimed them
            server.release()
            out, err = send.communicate(timeout=120)
        finally:
            server.release()
            for proc in (send, web):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.communicate(timeout=30)
        digests = [m for m in server.handler.received if m.rcpt != [NEWCOMER]]
        # The newcomer was not on the list when the send started: the confirmation only.
        assert [m.rcpt for m in server.handler.received].count([NEWCOMER]) == 1
    assert send.returncode == 0, err
    got: dict[str, int] = {}
    for m in digests:
        got[m.rcpt[0]] = got.get(m.rcpt[0], 0) + 1
    assert got == {a: 1 for a in READERS if a not in LEAVING}
    m = SUMMARY.search(out)
    assert m and m.group(1) == "50", out
    assert "10 left the list during the run (not sent)" in out
    log = dict(rows(pg_backend, "SELECT recipient, status FROM send_log WHERE week = '2024-W24'"))
    assert log == {key(a): ("skipped" if a in LEAVING else "sent") for a in READERS}
    assert not any(a in out + err for a in READERS)   # no address in the normal output
