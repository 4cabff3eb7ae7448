"""Sending the digest to a real SMTP server (aiosmtpd) on 127.0.0.1, with the send log."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    Behaviour,
    config_for,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.digest.week import Week
from feedkit.errors import FeedkitError
from feedkit.mail.recipients import load_recipients
from feedkit.mail.send import send_week

SECRET = "test-secret-0123456789abcdef"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)
READERS = [f"reader{i}@example.com" for i in range(6)]


@pytest.fixture(autouse=True)
def _send_secret(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


def key(address: str, secret: str = SECRET) -> str:
    """The send-log key, computed here independently of feedkit.privacy."""
    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def _setup(tmp_path: Path, port: int, to=READERS, backend=None, **digest):
    config = config_for(tmp_path, backend, smtp={"port": port},
                        digest={"to": list(to), **digest})
    store = store_with(tmp_path, korean_articles(8, W24), backend)
    return config, store


def _log(backend, readers=READERS) -> dict[str, tuple[str, int]]:
    """The week's send log by address, read with the database's own client (the log itself
    holds only keys; every key must be one of ``readers``')."""
    by_key = {key(a): a for a in readers}
    rows = backend.rows(
        "SELECT recipient, status, attempts FROM send_log WHERE week = '2024-W24'")
    return {by_key[r]: (s, n) for r, s, n in rows}


def test_messages_arrive_with_their_headers_and_a_second_run_sends_nothing(tmp_path, backend):
    with smtp_server() as (server, port):
        config, store = _setup(tmp_path, port, backend=backend)
        report = send_week(config, store, WEEK, now=NOW)
        assert report.ok and sorted(report.sent) == sorted(READERS)
        assert server.count_by_recipient() == dict.fromkeys(READERS, 1)
        ids = set()
        for got in server.received:
            msg = got.message
            assert got.mail_from == "news@example.org"
            assert msg["To"] == got.rcpt[0]
            assert msg["Subject"] == "보령시 주간 소식 · 6월 둘째 주 (6월 10일 – 16일)"
            assert msg["List-Id"] and msg["List-Unsubscribe"] and msg["Message-ID"]
            # https link, no [web] url: nothing would answer a one-click POST (issue 22)
            assert msg["List-Unsubscribe-Post"] is None
            assert msg["Date"].datetime == NOW
            assert [p.get_content_type() for p in msg.iter_parts()] == [
                "text/plain", "text/html"]
            ids.add(msg["Message-ID"])
        assert len(ids) == len(READERS)
        assert _log(backend) == {r: ("sent", 1) for r in READERS}

        again = send_week(config, store, WEEK, now=NOW)
        assert again.sent == [] and again.already == len(READERS) and again.ok
        assert len(server.received) == len(READERS)
        store.close()


def test_recipients_file_csv_and_bad_addresses(tmp_path):
    (tmp_path / "readers.csv").write_text(
        "name,email\n김철수,kim@example.com\n이영희,not-an-address\n박,PARK@example.com\n"
        "중복,kim@EXAMPLE.com\n", encoding="utf-8")
    config = config_for(tmp_path, digest={"to": ["list@example.org", "bad address"],
                                          "recipients_file": "readers.csv"})
    got = load_recipients(config)
    assert got.addresses == ["list@example.org", "kim@example.com", "PARK@example.com"]
    assert len(got.problems) == 2
    # The problem lines are printed at normal verbosity: they name where, not what (a bad
    # entry is often a mistyped address); the entry itself is kept for -v.
    assert any(p.startswith("readers.csv:3: not an email address") for p in got.problems)
    assert not any("not-an-address" in p for p in got.problems)
    assert ("readers.csv:3", "not-an-address") in got.rejected
    assert any("[digest] to #2" in p for p in got.problems)
    (tmp_path / "plain.txt").write_text("# our readers\na@example.com\n\n 보령 <b@example.com>\n",
                                        encoding="utf-8")
    config = config_for(tmp_path, digest={"to": [], "recipients_file": "plain.txt"})
    assert load_recipients(config).addresses == ["a@example.com", "b@example.com"]
    config = config_for(tmp_path, digest={"to": [], "recipients_file": "missing.txt"})
    with pytest.raises(FeedkitError, match=r"missing\.txt"):
        load_recipients(config)


def test_temporary_failures_are_retried(tmp_path, backend):
    # every recipient's first two DATA attempts get a 451; the third is accepted
    behaviour = Behaviour(on_data=lambda rcpt, n: "451 4.3.0 try again later" if n <= 2
                          else None)
    sleeps: list[float] = []
    with smtp_server(behaviour) as (server, port):
        config, store = _setup(tmp_path, port, to=READERS[:3], backend=backend)
        report = send_week(config, store, WEEK, now=NOW, sleep=sleeps.append)
        assert report.ok and len(report.sent) == 3
        assert server.count_by_recipient() == dict.fromkeys(READERS[:3], 1)
        assert _log(backend) == {r: ("sent", 3) for r in READERS[:3]}
        # exponential backoff: each of the three readers waited 0.01 s, then 0.02 s
        assert sorted(sleeps) == [0.01, 0.01, 0.01, 0.02, 0.02, 0.02]
        store.close()


def test_disconnects_are_retried_on_a_new_connection(tmp_path):
    behaviour = Behaviour(on_data=lambda rcpt, n: "disconnect" if n == 1 else None)
    with smtp_server(behaviour) as (server, port):
        config, store = _setup(tmp_path, port, to=READERS[:3])
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert report.ok and len(report.sent) == 3
        assert server.count_by_recipient() == dict.fromkeys(READERS[:3], 1)
        store.close()


def test_permanent_failures_are_recorded_and_reported(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda rcpt: "550 5.1.1 no such user"
                          if rcpt.startswith("reader2") else None)
    with smtp_server(behaviour) as (server, port):
        config, store = _setup(tmp_path, port, to=READERS[:4], backend=backend)
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert not report.ok
        assert report.failed == [("reader2@example.com", "550 5.1.1 no such user")]
        assert sorted(server.count_by_recipient()) == sorted(
            r for r in READERS[:4] if r != "reader2@example.com")
        log = _log(backend)
        assert log["reader2@example.com"] == ("failed", 1)  # not retried within the run
        store.close()


def test_a_server_failing_after_n_then_a_rerun_gives_exactly_one_each(tmp_path, backend):
    state = {"accepted": 0, "broken": True}

    def on_data(rcpt, attempt):
        if state["broken"] and state["accepted"] >= 2:
            return "421 4.3.2 service shutting down"
        state["accepted"] += 1
        return None

    with smtp_server(Behaviour(on_data=on_data)) as (server, port):
        config, store = _setup(tmp_path, port, backend=backend)
        first = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert len(first.sent) == 2 and not first.ok
        assert len(first.deferred) == len(READERS) - 2
        state["broken"] = False
        second = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        assert second.ok and second.already == 2 and len(second.sent) == len(READERS) - 2
        assert server.count_by_recipient() == dict.fromkeys(READERS, 1)
        store.close()


def _write_config(tmp_path: Path, port: int, to: list[str], connections: int = 3,
                  backend=None) -> Path:
    lines = "\n".join(f'  "{a}",' for a in to)
    store = backend.store_lines() if backend is not None else ""
    return write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
to = [
{lines}
]
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 5
connections = {connections}

{store}""")


def _send_in_a_process(config_path: Path,
                       proc_box: dict) -> tuple[list[str], dict, subprocess.Popen]:
    """Run `digest send` for 2024-W24 in a child process the server's hook can SIGKILL (through
    proc_box), and wait for it; returns the command and environment for the rerun."""
    cmd = [sys.executable, "-m", "feedkit", "--config", str(config_path), "digest", "send",
           "--week", "2024-W24"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc_box["proc"] = proc
    proc.communicate(timeout=60)
    return cmd, env, proc


def test_a_run_killed_half_way_then_rerun_delivers_each_exactly_once(tmp_path, backend):
    """The sender process is SIGKILLed by the server itself while it is sending the 4th
    message; the re-run must deliver the rest and nobody twice."""
    proc_box: dict[str, subprocess.Popen] = {}
    seen: list[str] = []

    def hook(rcpt):
        seen.append(rcpt)
        if len(seen) == 4 and "proc" in proc_box:
            os.kill(proc_box["proc"].pid, signal.SIGKILL)

    with smtp_server(Behaviour(hook_rcpt=hook)) as (server, port):
        config_path = _write_config(tmp_path, port, READERS, connections=1, backend=backend)
        store_with(tmp_path, korean_articles(8, W24), backend).close()
        cmd, env, proc = _send_in_a_process(config_path, proc_box)
        assert proc.returncode == -signal.SIGKILL
        assert len(server.received) == 3
        statuses = _log(backend)
        assert sorted(s for s, _ in statuses.values()) == ["sending", "sent", "sent", "sent"]

        proc_box.clear()
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        assert server.count_by_recipient() == dict.fromkeys(READERS, 1)
        assert {s for s, _ in _log(backend).values()} == {"sent"}


def test_a_run_killed_with_four_connections_resumes_without_a_duplicate_of_a_sent(
        tmp_path, backend):
    """Four connections, SIGKILL at the 10th RCPT of 20. Whoever the log says was sent never
    gets a second copy; the rerun reaches everyone else. The only readers who may get two are
    the few (at most one per connection) the log still says "sending": the server may have
    taken their copy in the instant before the kill (the at-least-once window)."""
    readers = [f"many{i:02d}@example.com" for i in range(20)]
    proc_box: dict[str, subprocess.Popen] = {}
    seen: list[str] = []

    def hook(rcpt):
        seen.append(rcpt)
        if len(seen) == 10 and "proc" in proc_box:
            os.kill(proc_box["proc"].pid, signal.SIGKILL)

    with smtp_server(Behaviour(hook_rcpt=hook)) as (server, port):
        config_path = _write_config(tmp_path, port, readers, connections=4, backend=backend)
        store_with(tmp_path, korean_articles(8, W24), backend).close()
        cmd, env, proc = _send_in_a_process(config_path, proc_box)
        assert proc.returncode == -signal.SIGKILL
        at_kill = _log(backend, readers)
        sent_before = {r for r, (s, _) in at_kill.items() if s == "sent"}
        sending = {r for r, (s, _) in at_kill.items() if s == "sending"}
        assert 1 <= len(sending) <= 4 and len(sent_before) < 20
        received_before = set(server.count_by_recipient())
        assert sent_before <= received_before

        proc_box.clear()
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        counts = server.count_by_recipient()
        assert set(counts) == set(readers)
        twice = {r for r, n in counts.items() if n > 1}
        assert twice <= sending & received_before and max(counts.values()) <= 2
        assert {s for s, _ in _log(backend, readers).values()} == {"sent"}


def test_dry_run_sends_nothing_and_logs_nothing(tmp_path, backend):
    with smtp_server() as (server, port):
        config, store = _setup(tmp_path, port, to=READERS[:2], backend=backend)
        report = send_week(config, store, WEEK, now=NOW, dry_run=True)
        assert [a for a, _ in report.planned] == READERS[:2]
        assert all(mid.startswith("<digest.2024-W24.") for _, mid in report.planned)
        assert server.received == [] and _log(backend) == {}
        store.close()


def _cli(tmp_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), *args])


def test_cli_send_empty_week_exits_zero_and_sends_nothing(tmp_path):
    with smtp_server() as (server, port):
        _write_config(tmp_path, port, READERS[:2])
        store_with(tmp_path, korean_articles(3, W24)).close()
        result = _cli(tmp_path, "digest", "send", "--week", "2024-W30")
        assert result.exit_code == 0, result.output
        assert "nothing to send" in result.output
        assert server.received == []


def test_cli_send_reports_failures_and_exits_non_zero(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda rcpt: "550 5.1.1 unknown" if "reader1" in rcpt
                          else None)
    with smtp_server(behaviour) as (server, port):
        _write_config(tmp_path, port, READERS[:3], backend=backend)
        store_with(tmp_path, korean_articles(3, W24), backend).close()
        result = _cli(tmp_path, "digest", "send", "--today", "2024-06-19")
        assert result.exit_code == 3  # partly done: two of three sent
        # normal output names the reader by a short key, never by address
        short = key("reader1@example.com").removeprefix("hmac-sha256:")[:8]
        assert f"recipient #{short}: failed: 550" in result.output
        assert "@example.com" not in result.output
        assert "2024-W24: 2 sent, 0 already sent, 1 failed" in result.output
        assert "Traceback" not in result.output
        dry = _cli(tmp_path, "digest", "send", "--today", "2024-06-19", "--dry-run")
        assert dry.exit_code == 0 and "would send 1 message(s)" in dry.output
        assert "@example.com" not in dry.output
        dry_v = _cli(tmp_path, "-v", "digest", "send", "--today", "2024-06-19", "--dry-run")
        assert dry_v.exit_code == 0 and "would send to reader1@example.com" in dry_v.output
        assert len(server.received) == 2


def test_cli_rerun_with_a_reader_still_failing_is_partly_done_not_a_failure(tmp_path, backend):
    """Every hourly run of a due week retries the one refused reader; the others got the week
    on an earlier run, so the run is partly done (3), not "nobody could be sent to" (1), which
    would turn every hourly CI run red for the rest of the week."""
    behaviour = Behaviour(on_rcpt=lambda rcpt: "550 5.1.1 unknown" if "reader1" in rcpt
                          else None)
    with smtp_server(behaviour) as (server, port):
        _write_config(tmp_path, port, READERS[:3], backend=backend)
        store_with(tmp_path, korean_articles(3, W24), backend).close()
        first = _cli(tmp_path, "digest", "send", "--today", "2024-06-19")
        assert first.exit_code == 3, first.output
        rerun = _cli(tmp_path, "digest", "send", "--today", "2024-06-19")
        assert "2024-W24: 0 sent, 2 already sent, 1 failed" in rerun.output
        assert rerun.exit_code == 3, rerun.output
        assert len(server.received) == 2


def test_cli_send_where_every_reader_fails_exits_one(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda rcpt: "550 5.1.1 unknown")
    with smtp_server(behaviour) as (server, port):
        _write_config(tmp_path, port, READERS[:2], backend=backend)
        store_with(tmp_path, korean_articles(3, W24), backend).close()
        result = _cli(tmp_path, "digest", "send", "--today", "2024-06-19")
        assert "2024-W24: 0 sent, 0 already sent, 2 failed" in result.output
        assert result.exit_code == 1, result.output
        assert server.received == []


def test_unreachable_server_fails_with_one_line(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    _write_config(tmp_path, port, READERS[:3])
    store_with(tmp_path, korean_articles(3, W24)).close()
    result = _cli(tmp_path, "digest", "send", "--week", "2024-W24")
    assert result.exit_code == 1
    assert "cannot reach SMTP server 127.0.0.1" in result.output
    assert "3 not sent" in result.output
    assert "Traceback" not in result.output


def test_starttls_required_but_not_offered(tmp_path):
    with smtp_server() as (server, port):
        config, store = _setup(tmp_path, port)
        config = config_for(tmp_path, smtp={"port": port, "tls": "starttls"},
                            digest={"to": READERS[:1]})
        with pytest.raises(FeedkitError, match="does not offer STARTTLS"):
            send_week(config, store, WEEK, now=NOW)
        assert server.received == []
        store.close()


def test_username_without_password_env_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("FEEDKIT_SMTP_PASSWORD", raising=False)
    with smtp_server() as (_server, port):
        config = config_for(tmp_path, smtp={"port": port, "username": "news",
                                            "allow_plain_login": True},
                            digest={"to": READERS[:1]})
        store = store_with(tmp_path, korean_articles(3, W24))
        with pytest.raises(FeedkitError, match="FEEDKIT_SMTP_PASSWORD"):
            send_week(config, store, WEEK, now=NOW)
        store.close()
