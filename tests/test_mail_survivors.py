"""Send-loop behaviour left unchecked by mutation testing (issue 12): how an SMTP reply code is
classified at the 5xx boundaries, how often a temporary failure is retried (counted on the
server), and what the send log stores (read with sqlite3 or psycopg: the store-dependent cases
run on both backends) for a failed or deferred reader."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import pytest
from _digest_support import SEOUL, Behaviour, config_for, korean_articles, smtp_server, store_with
from pg import Backend

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


def _run(tmp_path, reply: str, retries: int = 2, backend=None):
    """Send W24 to GOOD and BAD; the server answers BAD's RCPT TO with ``reply``. Returns the
    report, RCPT TO count per recipient as the server saw them, and BAD's send-log row."""
    rcpts: dict[str, int] = {}

    def hook(addr):
        rcpts[addr] = rcpts.get(addr, 0) + 1

    behaviour = Behaviour(hook_rcpt=hook, on_rcpt=lambda a: reply if a == BAD else None)
    with smtp_server(behaviour) as (server, port):
        config = config_for(tmp_path, backend, smtp={"port": port, "retries": retries},
                            digest={"to": [GOOD, BAD]})
        store = store_with(tmp_path, korean_articles(4, W24), backend)
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        assert server.count_by_recipient() == {GOOD: 1}
    (row,) = _reader(tmp_path, backend).rows(
        "SELECT status, attempts, error FROM send_log WHERE week = '2024-W24' AND recipient = ?",
        _key(BAD))
    return report, rcpts, row


def _reader(tmp_path, backend):
    """Who reads the store back: ``backend`` (tests/pg.py), or the SQLite file by default."""
    return backend if backend is not None else Backend("sqlite", tmp_path)


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


def test_the_recipients_address_is_scrubbed_from_a_stored_error(tmp_path, backend):
    report, _rcpts, row = _run(tmp_path, f"550 5.1.1 <{BAD}>: Recipient address rejected",
                               backend=backend)
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


def test_the_log_says_sending_before_each_hand_over(tmp_path, backend):
    """Read with the database's own client, on its own connection, while the server holds
    BAD's RCPT TO: BAD's row already says ``sending`` with the attempt counted and committed
    (a crash here must not be taken for "never sent"); on the retry it says ``sending`` with
    two attempts."""
    seen: list[tuple] = []

    def hook(addr):
        if addr == BAD:
            seen.extend(backend.rows(
                "SELECT status, attempts FROM send_log WHERE week = '2024-W24' "
                "AND recipient = ?", _key(BAD)))

    first = {"done": False}

    def on_rcpt(addr):
        if addr == BAD and not first["done"]:
            first["done"] = True
            return "451 4.3.0 try later"
        return None

    with smtp_server(Behaviour(hook_rcpt=hook, on_rcpt=on_rcpt)) as (server, port):
        config = config_for(tmp_path, backend, smtp={"port": port, "retries": 2},
                            digest={"to": [BAD]})
        store = store_with(tmp_path, korean_articles(4, W24), backend)
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        assert server.count_by_recipient() == {BAD: 1}
    assert report.sent == [BAD]
    assert seen == [("sending", 1), ("sending", 2)]


def test_held_counts_only_readers_still_pending_when_the_day_is_over_its_limit(tmp_path,
                                                                                backend):
    """max_per_day 2 of three readers: one held. Then the limit is lowered to 1 while two were
    already sent today (left = -1): the one pending reader is held, not two, and nothing is
    sent."""
    readers = [GOOD, BAD, "reader2@example.com"]
    with smtp_server() as (server, port):
        store = store_with(tmp_path, korean_articles(4, W24), backend)
        config = config_for(tmp_path, backend, smtp={"port": port, "max_per_day": 2},
                            digest={"to": readers})
        first = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert (len(first.sent), first.held) == (2, 1)
        config = config_for(tmp_path, backend, smtp={"port": port, "max_per_day": 1},
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


# -- more of what a sender and a reader see (issue 12, second mutation run) -----------------


def _send(tmp_path, readers, port, backend=None, **kw):
    smtp = {"port": port, **kw.pop("smtp", {})}
    config = config_for(tmp_path, backend, smtp=smtp,
                        digest={"to": list(readers), **kw.pop("digest", {})})
    store = store_with(tmp_path, kw.pop("articles", None) or korean_articles(4, W24), backend)
    try:
        return send_week(config, store, kw.pop("week", WEEK), now=kw.pop("now", NOW),
                         sleep=lambda s: None, **kw)
    finally:
        store.close()


def test_message_ids_come_from_the_keyed_hash_and_the_dry_run_shows_the_same(tmp_path):
    """A Message-ID is stored in the (committed) send log, so it is made from the reader's
    keyed hash, never from the guessable address; the dry run plans the very Message-IDs the
    send then uses. Both computed here with hashlib from the documented recipe."""
    import hashlib as h

    readers = [GOOD, BAD]
    feed_url = "https://news.example.org/boryeong/"
    with smtp_server() as (server, port):
        planned = _send(tmp_path, readers, port, dry_run=True).planned
        _send(tmp_path, readers, port)
        got = {r.rcpt[0]: r.message["Message-ID"] for r in server.received}
    for addr in readers:
        keyed = h.sha256(f"{feed_url}\n2024-W24\n{_key(addr)}".encode()).hexdigest()[:24]
        plain = h.sha256(f"{feed_url}\n2024-W24\npreview:{addr}".encode()).hexdigest()[:24]
        assert got[addr] == f"<digest.2024-W24.{keyed}@example.org>"
        assert plain not in got[addr]
    assert planned == [(a, got[a]) for a in readers]


def test_a_temporary_reply_naming_the_address_is_stored_without_it(tmp_path, backend):
    report, _rcpts, row = _run(tmp_path, f"451 4.2.2 <{BAD}>: mailbox full, try later",
                               retries=0, backend=backend)
    assert row[0] == "deferred" and BAD not in row[2] and "mailbox full" in row[2]
    (addr, why), = report.deferred
    assert addr == BAD and BAD not in why


def test_with_verbose_each_reader_sent_and_each_retry_gets_a_line(tmp_path):
    from _digest_support import SITE_AND_SENDER_TOML, write_config_toml
    from click.testing import CliRunner

    from feedkit.cli import cli

    seen: dict[str, int] = {}

    def on_rcpt(addr):
        seen[addr] = seen.get(addr, 0) + 1
        return "451 4.3.0 try later" if addr == BAD and seen[addr] == 1 else None

    with smtp_server(Behaviour(on_rcpt=on_rcpt)) as (_server, port):
        write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
to = ["{GOOD}", "{BAD}"]
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
connections = 1
""")
        store_with(tmp_path, korean_articles(4, W24)).close()
        result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), "-v",
                                          "digest", "send", "--week", "2024-W24"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"sent to {GOOD}" in lines and f"sent to {BAD}" in lines
    assert f"{BAD}: 451 4.3.0 try later; retrying" in lines


@pytest.mark.parametrize("connections", [1, 2])
def test_connections_is_the_number_of_client_connections_the_server_sees(tmp_path,
                                                                          connections):
    """A relay that takes one connection at a time gets one; two get two (40 readers: both
    connections have work)."""
    readers = [f"c{i:02d}@example.com" for i in range(40)]
    peers: set[int] = set()
    with smtp_server() as (server, port):
        original = server.handle_RCPT

        async def handle_RCPT(srv, session, envelope, address, options):
            peers.add(session.peer[1])
            return await original(srv, session, envelope, address, options)

        server.handle_RCPT = handle_RCPT
        report = _send(tmp_path, readers, port, smtp={"connections": connections})
        assert server.count_by_recipient() == dict.fromkeys(readers, 1)
    assert report.ok and len(peers) == connections


def test_no_recipients_is_a_configuration_error_saying_what_to_set(tmp_path):
    from feedkit.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        _send(tmp_path, [], 2525)
    assert str(caught.value) == ("no recipients: set [digest] to, recipients_env or "
                                 "recipients_file")


def test_a_relay_that_goes_away_mid_run_is_one_line_with_what_was_and_was_not_sent(tmp_path):
    """Six readers on one connection; the second is refused (550); while the fourth is handed
    over the relay stops listening and drops the line. The run stops with one line: the relay
    cannot be reached, 2 sent, 3 not sent (the refused one is neither), and run again."""
    import socket

    from _digest_support import RecordingHandler
    from aiosmtpd.controller import Controller

    from feedkit.errors import FeedkitError

    readers = [f"g{i}@example.com" for i in range(6)]
    holder: dict = {}

    def on_data(rcpt, attempt):
        if rcpt == readers[3]:
            holder["controller"].server.close()   # no new connections from here on
            return "disconnect"
        return None

    handler = RecordingHandler(Behaviour(
        on_rcpt=lambda a: "550 5.1.1 no such user" if a == readers[1] else None,
        on_data=on_data))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    holder["controller"] = controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(FeedkitError) as caught:
            _send(tmp_path, readers, port, smtp={"connections": 1, "retries": 2})
    finally:
        controller.stop()
    line = str(caught.value)
    assert line.startswith(f"cannot reach SMTP server 127.0.0.1:{port}: ")
    assert line.endswith("; 2 sent, 3 not sent (run 'feedkit digest send' again to continue)")
    assert sorted(handler.count_by_recipient()) == [readers[0], readers[2]]


def test_an_article_dated_after_the_send_time_is_not_mailed(tmp_path):
    """Sending the week early (Thursday noon): the articles dated later that week are not in
    the email yet ([build] publish_future is off)."""
    articles = korean_articles(7, W24)
    now = datetime(2024, 6, 13, 12, 0, tzinfo=SEOUL)
    with smtp_server() as (server, port):
        report = _send(tmp_path, [GOOD], port, articles=articles, now=now)
        (got,) = server.received
    text = got.message.get_body(("plain",)).get_content()
    shown = {a.title for a in articles if a.title in text}
    assert shown == {a.title for a in articles if a.published <= now}
    assert 0 < len(shown) < len(articles) and report.sent == [GOOD]


def test_the_dry_run_summary_says_dry_run_and_counts_the_already_sent(tmp_path, backend):
    with smtp_server() as (_server, port):
        _send(tmp_path, [GOOD], port, backend)
        dry = _send(tmp_path, [GOOD, BAD, "reader2@example.com"], port, backend, dry_run=True)
    assert dry.summary() == ("2024-W24: dry run, would send to 2 of 3 recipient(s) "
                             "(1 already sent); nothing sent")


def test_a_missing_secret_is_reported_even_for_a_week_with_nothing_to_send(tmp_path,
                                                                            monkeypatch):
    """A scheduled job set up without $FEEDKIT_SECRET fails on its first run, not on the first
    week that happens to have articles."""
    from feedkit.errors import ConfigError

    monkeypatch.delenv("FEEDKIT_SECRET")
    with pytest.raises(ConfigError, match=r"^\$FEEDKIT_SECRET is not set"):
        _send(tmp_path, [GOOD], 2525, week=Week.parse("2024-W30", SEOUL))


def test_below_the_daily_limit_nobody_is_held(tmp_path):
    with smtp_server() as (_server, port):
        report = _send(tmp_path, [GOOD, BAD], port, smtp={"max_per_day": 100})
    assert (len(report.sent), report.held) == (2, 0)
    assert "held" not in report.summary()


def test_a_sent_readers_log_row_keeps_no_error_even_after_a_retry(tmp_path, backend):
    first = {"done": False}

    def on_rcpt(addr):
        if addr == BAD and not first["done"]:
            first["done"] = True
            return "451 4.3.0 try later"
        return None

    with smtp_server(Behaviour(on_rcpt=on_rcpt)) as (_server, port):
        report = _send(tmp_path, [GOOD, BAD], port, backend)
    assert sorted(report.sent) == sorted([GOOD, BAD])
    rows = {r: (s, n, e) for r, s, n, e in backend.rows(
        "SELECT recipient, status, attempts, error FROM send_log WHERE week = '2024-W24'")}
    assert rows == {_key(GOOD): ("sent", 1, ""), _key(BAD): ("sent", 2, "")}


def test_progress_counts_the_readers_still_to_send(tmp_path):
    """Two of eight readers had the week already: a log's progress lines count the six still
    to send, at each quarter (2/6, 3/6, 5/6; the last line is the command's summary)."""
    import io

    from feedkit.progress import Progress

    readers = [f"p{i}@example.com" for i in range(8)]
    stream = io.StringIO()
    with smtp_server() as (_server, port):
        _send(tmp_path, readers[:2], port)
        progress = Progress("send", stream=stream, tty=False, unit="recipients", min_total=4)
        _send(tmp_path, readers, port, smtp={"connections": 1}, progress=progress)
    assert stream.getvalue() == ("send: 2/6 recipients\nsend: 3/6 recipients\n"
                                 "send: 5/6 recipients\n")
