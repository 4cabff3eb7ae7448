"""Send-loop behaviour left unchecked by mutation testing (issue 12): how an SMTP reply code is
classified at the 5xx boundaries, how often a temporary failure is retried (counted on the
server), and what the send log stores (read with sqlite3) for a failed or deferred reader."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from datetime import datetime

import pytest
from _digest_support import SEOUL, Behaviour, config_for, korean_articles, smtp_server, store_with

from feedkit.digest.week import Week
from feedkit.mail.send import send_week

SECRET = "test-secret-0123456789abcdef"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)
BAD = "reader1@example.com"
GOOD = "reader0@example.com"


@pytest.fixture(autouse=True)
def _send_secret(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


def _key(address: str) -> str:
    """The send-log key, computed here independently of feedkit.privacy."""
    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest()


def _run(tmp_path, reply: str, retries: int = 2):
    """Send W24 to GOOD and BAD; the server answers BAD's RCPT TO with ``reply``. Returns the
    report, RCPT TO count per recipient as the server saw them, and BAD's send-log row."""
    rcpts: dict[str, int] = {}

    def hook(addr):
        rcpts[addr] = rcpts.get(addr, 0) + 1

    behaviour = Behaviour(hook_rcpt=hook, on_rcpt=lambda a: reply if a == BAD else None)
    with smtp_server(behaviour) as (server, port):
        config = config_for(tmp_path, smtp={"port": port, "retries": retries},
                            digest={"to": [GOOD, BAD]})
        store = store_with(tmp_path, korean_articles(4, W24))
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        assert server.count_by_recipient() == {GOOD: 1}
    with sqlite3.connect(tmp_path / "articles.db") as db:
        row = db.execute("SELECT status, attempts, error FROM send_log "
                         "WHERE week = '2024-W24' AND recipient = ?", (_key(BAD),)).fetchone()
    return report, rcpts, row


@pytest.mark.parametrize("code", [500, 550, 599])
def test_5xx_is_permanent_not_retried(tmp_path, code):
    report, rcpts, row = _run(tmp_path, f"{code} 5.1.1 no such user")
    assert rcpts == {GOOD: 1, BAD: 1}
    assert report.failed == [(BAD, f"{code} 5.1.1 no such user")]
    assert report.deferred == []
    assert row == ("failed", 1, f"{code} 5.1.1 no such user")


@pytest.mark.parametrize("code", [421, 450, 499])
@pytest.mark.parametrize("retries", [0, 2])
def test_below_500_is_temporary_retried_exactly_retries_times(tmp_path, code, retries):
    report, rcpts, row = _run(tmp_path, f"{code} 4.3.0 try later", retries=retries)
    assert rcpts == {GOOD: 1, BAD: retries + 1}
    assert report.failed == []
    assert report.deferred == [(BAD, f"{code} 4.3.0 try later")]
    assert row == ("deferred", retries + 1, f"{code} 4.3.0 try later")


def test_the_recipients_address_is_scrubbed_from_a_stored_error(tmp_path):
    report, _rcpts, row = _run(tmp_path, f"550 5.1.1 <{BAD}>: Recipient address rejected")
    assert row[0] == "failed"
    assert BAD not in row[2] and "reader1" not in row[2]
    assert "Recipient address rejected" in row[2]
    (addr, why), = report.failed
    assert addr == BAD and BAD not in why


@pytest.mark.parametrize("rate, how", [(0.5, "argument"), (0.25, "config")])
def test_a_rate_below_one_per_second_still_spaces_hand_overs(tmp_path, rate, how):
    """At 0.5 a second, three readers on one connection: the second waits about 2 s and the
    third about 4 s after the first (the injected sleep records the waits instead of waiting,
    so the clock does not move between them)."""
    readers = [GOOD, BAD, "reader2@example.com"]
    sleeps: list[float] = []
    with smtp_server() as (server, port):
        smtp = {"port": port, "connections": 1}
        if how == "config":
            smtp["max_per_second"] = rate
        config = config_for(tmp_path, smtp=smtp, digest={"to": readers})
        store = store_with(tmp_path, korean_articles(4, W24))
        report = send_week(config, store, WEEK, now=NOW, sleep=sleeps.append,
                           max_per_second=rate if how == "argument" else None)
        store.close()
        assert server.count_by_recipient() == dict.fromkeys(readers, 1)
    assert report.ok
    interval = 1 / rate
    assert len(sleeps) == 2
    # less than the full interval only by the time the sending itself took (well under 1 s)
    assert interval - 1 < sorted(sleeps)[0] <= interval
    assert 2 * interval - 1 < sorted(sleeps)[1] <= 2 * interval


def test_the_log_says_sending_before_each_hand_over(tmp_path):
    """Read with sqlite3 while the server holds BAD's RCPT TO: BAD's row already says
    ``sending`` with the attempt counted (a crash here must not be taken for "never sent");
    on the retry it says ``sending`` with two attempts."""
    seen: list[tuple] = []

    def hook(addr):
        if addr == BAD:
            with sqlite3.connect(tmp_path / "articles.db") as db:
                seen.append(db.execute(
                    "SELECT status, attempts FROM send_log WHERE week = '2024-W24' "
                    "AND recipient = ?", (_key(BAD),)).fetchone())

    first = {"done": False}

    def on_rcpt(addr):
        if addr == BAD and not first["done"]:
            first["done"] = True
            return "451 4.3.0 try later"
        return None

    with smtp_server(Behaviour(hook_rcpt=hook, on_rcpt=on_rcpt)) as (server, port):
        config = config_for(tmp_path, smtp={"port": port, "retries": 2},
                            digest={"to": [BAD]})
        store = store_with(tmp_path, korean_articles(4, W24))
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        assert server.count_by_recipient() == {BAD: 1}
    assert report.sent == [BAD]
    assert seen == [("sending", 1), ("sending", 2)]


def test_held_counts_only_readers_still_pending_when_the_day_is_over_its_limit(tmp_path):
    """max_per_day 2 of three readers: one held. Then the limit is lowered to 1 while two were
    already sent today (left = -1): the one pending reader is held, not two, and nothing is
    sent."""
    readers = [GOOD, BAD, "reader2@example.com"]
    with smtp_server() as (server, port):
        store = store_with(tmp_path, korean_articles(4, W24))
        config = config_for(tmp_path, smtp={"port": port, "max_per_day": 2},
                            digest={"to": readers})
        first = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert (len(first.sent), first.held) == (2, 1)
        config = config_for(tmp_path, smtp={"port": port, "max_per_day": 1},
                            digest={"to": readers})
        second = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        assert (second.sent, second.held) == ([], 1)
        assert "1 held for [smtp] max_per_day" in second.summary()
        assert sum(server.count_by_recipient().values()) == 2


@pytest.mark.parametrize("reply, status, shown", [
    (b"550 5.1.1 Empf\xe4nger unbekannt", "failed", "550 5.1.1 Empf\ufffdnger unbekannt"),
    (b"451 4.3.0 Bitte sp\xe4ter", "deferred", "451 4.3.0 Bitte sp\ufffdter"),
])
def test_a_reply_that_is_not_utf8_is_recorded_readably_not_a_crash(tmp_path, reply, status,
                                                                    shown):
    """Older relays answer in Latin-1 ("Empfänger"): the reply is not valid UTF-8. The run goes
    on, the good reader gets the week, and the stored reason shows the bad byte as U+FFFD."""
    report, _rcpts, row = _run(tmp_path, reply, retries=1)   # type: ignore[arg-type]
    assert report.sent == [GOOD]
    assert (report.failed if status == "failed" else report.deferred) == [(BAD, shown)]
    assert row[0] == status and row[2] == shown


def test_an_unreachable_server_is_named_with_the_systems_reason(tmp_path):
    """Nothing listens on the port: the run stops with one line naming the server and the
    operating system's reason, as a person would look it up."""
    import socket

    from feedkit.errors import FeedkitError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again: nothing listens there
    config = config_for(tmp_path, smtp={"port": port}, digest={"to": [GOOD, BAD]})
    store = store_with(tmp_path, korean_articles(4, W24))
    with pytest.raises(FeedkitError) as caught:
        send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
    store.close()
    line = str(caught.value)
    assert line.startswith(f"cannot reach SMTP server 127.0.0.1:{port}: ConnectionRefusedError: ")
    assert "Connection refused" in line and "\n" not in line
