"""Issue 22 item 9: confirmation emails are kept until the relay takes them.

The endpoint queued them in memory: a relay that was slow or down, or a server stopped
meanwhile, lost them, and the person who asked never heard back. Now each one is kept in the
store (``web_outbox``) until the relay takes it (or refuses it for good, or its link expires),
tried again later, and sent by the next ``feedkit web`` after a restart. The endpoint under
waitress with aiosmtpd on both store backends; the restart with the real command.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

from _digest_support import Behaviour, smtp_server
from _web_support import SECRET, Client, endpoint, links_in, path_of
from conftest import REPO
from test_web_cli import web_site

ADDRESS = "kim.minji@example.org"


def relay(down: list[bool]) -> Behaviour:
    """A relay that answers "421 try later" to every recipient while ``down[0]``."""
    return Behaviour(on_rcpt=lambda _a: "421 4.3.2 Service not available" if down[0] else None)


def test_a_confirmation_waits_in_the_store_while_the_relay_is_down(tmp_path, backend):
    down = [True]
    with endpoint(tmp_path, backend=backend, behaviour=relay(down)) as ep:
        client = ep.client()
        assert client.subscribe(ADDRESS).status == 303
        assert ep.mails() == []
        [(recipient, attempts)] = backend.rows("SELECT recipient, attempts FROM web_outbox")
        assert (recipient, attempts) == (ADDRESS, 1)
        # Not due yet: a look now sends nothing (and does not count as a try).
        down[0] = False
        ep.state.outbox.wake()
        assert ep.mails() == [] and backend.rows("SELECT attempts FROM web_outbox") == [(1,)]
        # A minute later the relay answers: the same email goes, once, and leaves the store.
        ep.clock.advance(61)
        ep.state.outbox.wake()
        [mail] = ep.mails(1)
        assert mail.rcpt == [ADDRESS]
        assert backend.rows("SELECT count(*) FROM web_outbox") == [(0,)]
        [link] = [u for u in links_in(mail.message.get_content()) if "/confirm/" in u]
        assert client.post(path_of(link)).status == 200
        ep.clock.advance(3600)
        ep.state.outbox.wake()
        assert len(ep.mails()) == 1


def test_the_relay_down_for_longer_backs_off_and_a_refusal_or_expiry_ends_it(tmp_path,
                                                                              backend):
    down = [True]
    with endpoint(tmp_path, backend=backend, behaviour=relay(down)) as ep:
        ep.client().subscribe(ADDRESS)
        ep.state.outbox.join()
        due = []
        for _ in range(3):
            ep.clock.advance(3600)
            ep.state.outbox.wake()
            ep.state.outbox.join()
            due.append(backend.scalar("SELECT next_try - ? FROM web_outbox",
                                      int(ep.clock.now.timestamp())))
        assert due == [120, 240, 480]             # 2, 4, 8 minutes: tries spaced out
        assert backend.scalar("SELECT attempts FROM web_outbox") == 4
        # A week on, the link in it has expired: the email (and the address) are deleted.
        ep.clock.advance(7 * 24 * 3600)
        ep.state.outbox.wake()
        ep.state.outbox.join()
        assert backend.rows("SELECT count(*) FROM web_outbox") == [(0,)]
        assert ep.mails() == []


def test_an_email_refused_for_good_leaves_the_store(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda _a: "550 5.1.1 <kim.minji@example.org>: no such user")
    with endpoint(tmp_path, backend=backend, behaviour=behaviour) as ep:
        ep.client().subscribe(ADDRESS)
        ep.state.outbox.join()
        assert backend.rows("SELECT count(*) FROM web_outbox") == [(0,)]
        assert ep.state.outbox.failed == 1


def test_a_stopped_server_keeps_the_email_and_the_next_one_sends_it(tmp_path):
    down = [True]
    with smtp_server(relay(down)) as (smtp, smtp_port):
        site = web_site(tmp_path, smtp_port)
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
               "FEEDKIT_SECRET": SECRET}

        def start():
            proc = subprocess.Popen(
                [sys.executable, "-m", "feedkit", "--config", str(site.config), "web",
                 "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=env)
            for line in proc.stdout:
                m = re.search(r"http://127\.0\.0\.1:(\d+)/subscribe", line)
                if m:
                    return proc, int(m.group(1))
            raise AssertionError(proc.stderr.read())

        def stop(proc) -> tuple[str, str]:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            return out, err

        proc, port = start()
        try:
            assert Client(port).subscribe(ADDRESS).status == 303
            db = site.root / "articles.db"
            _wait(lambda: _rows(db, "SELECT attempts FROM web_outbox") == [(1,)])
            out, err = stop(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert "1 confirmation email(s) wait in the store" in out
        assert smtp.received == [] and ADDRESS not in out + err
        # A minute later (the row's next try is now), the relay is back and feedkit web is
        # started again: the email goes out without anyone asking again.
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE web_outbox SET next_try = ?",
                         (int(datetime.now(UTC).timestamp()) - 1,))
        down[0] = False
        proc, _port = start()
        try:
            _wait(lambda: smtp.received)
            out, err = stop(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert [m.rcpt for m in smtp.received] == [[ADDRESS]]
    assert _rows(db, "SELECT count(*) FROM web_outbox") == [(0,)]
    assert "wait in the store" not in out


def _rows(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _wait(condition, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_retries_back_off_from_a_minute_doubling_up_to_an_hour_and_no_more():
    from feedkit.web.outbox import _backoff

    assert [_backoff(n) // 60 for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert _backoff(40) == 3600


def test_an_outbox_without_a_store_keeps_nothing_waiting(tmp_path):
    """The app made without a store (memory only) says 0 when a stopping server asks what
    waits for the relay."""
    from feedkit.config import load_config
    from feedkit.web.outbox import Outbox

    site = web_site(tmp_path, 2525)
    assert Outbox(load_config(site.config)).waiting() == 0


def test_stop_returns_once_the_sending_thread_has_ended(tmp_path):
    """A stopping server exits right after stop(): the thread must be done by then (a daemon
    thread still handing an email over would be cut off)."""
    import threading

    from feedkit.config import load_config
    from feedkit.web.outbox import Outbox

    def senders() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "feedkit-web-outbox"}

    before = senders()
    outbox = Outbox(load_config(web_site(tmp_path, 2525).config), poll=30.0)
    outbox.start()
    [thread] = senders() - before
    outbox.stop()
    assert not thread.is_alive()


def _outbox_with(tmp_path, port: int, retries: int):
    """An outbox without a store (its emails tried from memory) on a site whose relay is on
    ``port``, ``retries`` quick retries 0.5 s apart and doubling; the sleeps are recorded,
    not slept."""
    from feedkit.config import load_config
    from feedkit.web.outbox import Outbox, Outgoing, compose

    site = web_site(tmp_path, port)
    site.edit_config(("retries = 0", f"retries = {retries}\nretry_delay = 0.5"))
    config = load_config(site.config)
    slept: list[float] = []
    outbox = Outbox(config, sleep=slept.append)
    data = compose(config, ADDRESS, "구독 확인", "확인 링크", datetime(2026, 12, 1, tzinfo=UTC))
    return outbox, Outgoing(ADDRESS, data, "#1a2b3c4d"), slept


def test_the_relays_quick_retries_double_and_each_outcome_is_counted_and_logged(tmp_path,
                                                                                caplog):
    caplog.set_level(logging.INFO, logger="feedkit.web")
    # Twice "try later", then taken: sent once, after sleeping 0.5 s and 1 s.
    later_twice = Behaviour(on_data=lambda _r, n: "451 4.3.0 try later" if n <= 2 else None)
    with smtp_server(later_twice) as (smtp, port):
        outbox, item, slept = _outbox_with(tmp_path / "a", port, retries=2)
        outbox.put(item)
        outbox.put(item)   # the relay takes the second at once
        outbox.join()
        outbox.stop()
    assert (outbox.sent, outbox.deferred, outbox.failed, slept) == (2, 0, 0, [0.5, 1.0])
    assert [m.rcpt for m in smtp.received] == [[ADDRESS]] * 2
    # Always "try later": given up after 1 + 2 tries, counted once as deferred.
    # (Relays often name the recipient in their answer; the log line must not.)
    always_later = Behaviour(on_data=lambda _r, _n: f"451 4.3.0 <{ADDRESS}> try later")
    with smtp_server(always_later) as (smtp, port):
        outbox, item, slept = _outbox_with(tmp_path / "b", port, retries=2)
        outbox.put(item)
        outbox.join()
        outbox.stop()
    assert (outbox.sent, outbox.deferred, outbox.failed, slept) == (0, 1, 0, [0.5, 1.0])
    # Refused for good: counted as failed at once, no retry.
    refuse = Behaviour(on_data=lambda _r, _n: f"550 5.1.1 <{ADDRESS}>: no such user")
    with smtp_server(refuse) as (smtp, port):
        outbox, item, slept = _outbox_with(tmp_path / "c", port, retries=2)
        outbox.put(item)
        outbox.put(item)
        outbox.join()
        outbox.stop()
    assert (outbox.sent, outbox.deferred, outbox.failed, slept) == (0, 0, 2, [])
    lines = [r.getMessage() for r in caplog.records if r.name == "feedkit.web"]
    assert lines[:2] == ["subscription email to #1a2b3c4d sent"] * 2
    assert lines[2].startswith("subscription email to #1a2b3c4d not sent after 3 tries: ")
    assert lines[3] == "subscription email to #1a2b3c4d not sent and not kept"   # no store
    assert lines[4].startswith("subscription email to #1a2b3c4d refused: ")
    assert "451" in lines[2] and "550" in lines[4] and len(lines) == 6
    assert not any(ADDRESS in line or "kim.minji" in line for line in lines)
