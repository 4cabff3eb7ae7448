"""The sending machinery of issue 14 item 10 and issue 9 item 16: messages built once and
personalised by substitution (byte-identical to the email package's reference build), several
connections, the rate limits, and DKIM signatures a verifier accepts. Real aiosmtpd on loopback;
no timing assertions (speed is measured by bench/bench_send.py)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from _digest_support import SEOUL, config_for, korean_articles, smtp_server, store_with

from feedkit.digest.compose import load_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.errors import ConfigError
from feedkit.mail.message import MessageFactory, build_message, message_bytes
from feedkit.mail.send import DkimSigner, RateLimiter, send_week

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)


@pytest.fixture(autouse=True)
def _send_secret(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "send-test-secret-0123456789")
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "unsubscribe-secret-0123456789")


@pytest.mark.parametrize("unsubscribe", [
    ["mailto:leave@lists.example.org", "https://news.example.org/unsubscribe"],
    ["mailto:leave@lists.example.org", "https://news.example.org/u/{token}"],
    ["https://news.example.org/u?e={email}"],
    [],
], ids=["shared", "token", "email", "none"])
def test_the_fast_build_is_byte_identical_to_the_email_package(tmp_path, unsubscribe):
    config = config_for(tmp_path, digest={"to": ["a@example.com"], "reply_to": "r@example.org",
                                          "unsubscribe": unsubscribe})
    store = store_with(tmp_path, korean_articles(12, W24))
    digest = load_digest(config, store, WEEK)
    store.close()
    renderer = DigestRenderer(config)
    body = renderer.email(digest)
    subject = renderer.subject(digest)
    factory = MessageFactory(config, digest, body, subject, NOW)
    for reader in ["kim@example.com", "Lee.Young+news@Example.COM", "user@예시.한국",
                   "사용자@예시.한국", "o'brien@example.org", "a.b-c@mail.example.co.kr",
                   "x" * 60 + "@" + "long-domain-" * 3 + "example.org", "üser@example.org"]:
        reference = message_bytes(build_message(config, digest, body, subject, reader, NOW,
                                                key="k:" + reader))
        mid, fast = factory.message(reader, "k:" + reader)
        assert fast == reference, reader
        assert message_from_bytes(fast, policy=default_policy)["Message-ID"] == mid


def test_a_message_with_a_leading_dot_line_is_still_dot_stuffed(tmp_path):
    """The quick DATA path is only for messages with nothing to stuff; anything else goes
    through smtplib's own stuffing, and the server gets the lines back intact."""
    import smtplib

    from feedkit.mail.smtp import _SMTP

    with smtp_server() as (server, port):
        conn = _SMTP("127.0.0.1", port, timeout=5)
        plain = b"Subject: a\r\n\r\nline one\r\nline two\r\n"
        dotted = b"Subject: b\r\n\r\n.hidden\r\n..two\r\n"
        conn.sendmail("news@example.org", ["a@example.com"], plain)
        conn.sendmail("news@example.org", ["b@example.com"], dotted)
        conn.quit()
    assert [r.data for r in server.received] == [plain, dotted]
    assert issubclass(_SMTP, smtplib.SMTP)


def test_several_connections_are_used_and_each_reader_gets_one(tmp_path, backend):
    peers: set[int] = set()
    readers = [f"r{i:03d}@example.com" for i in range(60)]
    with smtp_server() as (server, port):
        original = server.handle_DATA

        async def handle_DATA(srv, session, envelope):
            # Hold each message until four connections have shown up (or 4 s passed, under
            # the client's 5 s timeout): on a busy machine a sender thread may start late and
            # the others finish the whole list before it connects. Held replies leave the
            # list to all four; with fewer connections the test still fails.
            peers.add(session.peer[1])
            deadline = asyncio.get_running_loop().time() + 4
            while len(peers) < 4 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            return await original(srv, session, envelope)

        server.handle_DATA = handle_DATA
        config = config_for(tmp_path, backend, smtp={"port": port, "connections": 4},
                            digest={"to": readers})
        store = store_with(tmp_path, korean_articles(5, W24), backend)
        report = send_week(config, store, WEEK, now=NOW)
        store.close()
    assert report.ok and sorted(report.sent) == readers
    assert server.count_by_recipient() == dict.fromkeys(readers, 1)
    assert len(peers) == 4  # four client connections, none reopened


def test_rate_limiter_spaces_hand_overs_evenly():
    clock = {"t": 100.0}
    waits: list[float] = []

    def sleep(s):
        waits.append(round(s, 9))
        clock["t"] += s

    limiter = RateLimiter(4.0, clock=lambda: clock["t"], sleep=sleep)
    starts = []
    for _ in range(9):
        limiter.acquire()
        starts.append(clock["t"])
    assert starts == [100.0 + 0.25 * i for i in range(9)]
    # a pause longer than the interval earns no burst afterwards
    clock["t"] += 10
    limiter.acquire()
    limiter.acquire()
    assert waits[-1] == 0.25


def test_max_per_day_holds_the_rest_for_the_next_run(tmp_path, backend):
    readers = [f"d{i}@example.com" for i in range(7)]
    with smtp_server() as (server, port):
        config = config_for(tmp_path, backend, smtp={"port": port, "max_per_day": 5},
                            digest={"to": readers})
        store = store_with(tmp_path, korean_articles(5, W24), backend)
        # two messages of another week went out an hour ago: they count against the day
        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
        day_ago = (datetime.now(UTC) - timedelta(hours=25)).isoformat(timespec="seconds")
        store.db.executemany("INSERT INTO send_log VALUES ('2024-W23', ?, '<m>', 'sent', 1, '',"
                             " ?)", [("k1", hour_ago), ("k2", hour_ago), ("k3", day_ago)])
        first = send_week(config, store, WEEK, now=NOW)
        assert len(first.sent) == 3 and first.held == 4 and first.ok
        assert "4 held for [smtp] max_per_day" in first.summary()
        second = send_week(config, store, WEEK, now=NOW)
        assert second.sent == [] and second.held == 4   # the day's 5 are used up
        store.close()
    assert len(server.received) == 3


def test_a_rate_limited_send_goes_through_the_limiter(tmp_path):
    """2 a second: each hand-over after the first waits for its slot (the injected sleep only
    records, so the k-th wait is what is left of k half-seconds)."""
    slept: list[float] = []
    with smtp_server() as (server, port):
        config = config_for(tmp_path, smtp={"port": port, "max_per_second": 2.0,
                                            "connections": 1},
                            digest={"to": [f"s{i}@example.com" for i in range(5)]})
        store = store_with(tmp_path, korean_articles(5, W24))
        report = send_week(config, store, WEEK, now=NOW, sleep=slept.append)
        store.close()
    assert len(report.sent) == 5 and len(server.received) == 5
    assert len(slept) == 4
    assert all((k - 1) * 0.5 < wait <= k * 0.5 for k, wait in enumerate(slept, 1)), slept


# -- DKIM ------------------------------------------------------------------------------------

dkim = pytest.importorskip("dkim", reason="DKIM signing needs dkimpy (pip install dkimpy)")


def _rsa_key(tmp_path):
    """A throw-away RSA key (PKCS#1 PEM) and its DNS TXT record, made with the openssl CLI."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a key")
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
                   check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_dkim_signed_messages_verify_against_the_public_key(tmp_path, monkeypatch):
    pem, txt = _rsa_key(tmp_path)
    monkeypatch.setenv("FEEDKIT_DKIM_KEY", pem.decode())
    with smtp_server() as (server, port):
        # [web] url answers the https link, so the one-click header is sent (and signed)
        config = config_for(tmp_path, smtp={"port": port, "dkim_selector": "news2024",
                                            "dkim_domain": "example.org"},
                            digest={"to": ["kim@example.com", "lee@example.com"]},
                            web={"url": "https://news.example.org/"})
        store = store_with(tmp_path, korean_articles(5, W24))
        send_week(config, store, WEEK, now=NOW)
        store.close()

    def dns(name, timeout=5):
        return txt if name == b"news2024._domainkey.example.org." else None

    assert len(server.received) == 2
    for got in server.received:
        assert got.data.startswith(b"DKIM-Signature: ")
        signature = got.message["DKIM-Signature"]
        assert "d=example.org" in signature and "s=news2024" in signature
        for header in ("from", "subject", "list-unsubscribe", "list-unsubscribe-post"):
            assert header in signature.split("h=")[1].split(";")[0].lower()
        assert dkim.verify(got.data, dnsfunc=dns)
        # a changed body no longer verifies
        tampered = got.data.replace(b"\r\n\r\n--=_feedkit", b"\r\n\r\nX--=_feedkit", 1)
        assert tampered != got.data and not dkim.verify(tampered, dnsfunc=dns)


def test_dkim_key_problems_are_configuration_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("FEEDKIT_DKIM_KEY", raising=False)
    config = config_for(tmp_path, smtp={"dkim_selector": "s", "dkim_domain": "example.org"})
    with pytest.raises(ConfigError, match="FEEDKIT_DKIM_KEY nor"):
        DkimSigner.from_config(config)
    (tmp_path / "bad.pem").write_text("not a key\n", encoding="utf-8")
    config = config_for(tmp_path, smtp={"dkim_selector": "s", "dkim_domain": "example.org",
                                        "dkim_key_file": "bad.pem"})
    with pytest.raises(ConfigError, match=r"bad\.pem: not a usable DKIM private key"):
        DkimSigner.from_config(config)
    with pytest.raises(ConfigError, match="dkim_selector and dkim_domain go together"):
        config_for(tmp_path, smtp={"dkim_selector": "s"})
