"""Internationalised and malformed recipients (issue 14 items 1 and 9) against a real aiosmtpd
server on 127.0.0.1, with and without SMTPUTF8: one reader's address never stops the list."""

from __future__ import annotations

from datetime import datetime

import pytest
from _digest_support import SEOUL, config_for, korean_articles, smtp_server, store_with

from feedkit.digest.week import Week
from feedkit.errors import ConfigError
from feedkit.mail.recipients import load_recipients
from feedkit.mail.send import send_week

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)
TOO_LONG_LABEL = "x@" + "가" * 70 + ".kr"   # no IDNA form: a label over 63 octets
# Refused when the list is read (RFC 5321 lengths, issue 22), so it is never handed to the relay.
READERS = ["first@example.com", "사용자@예시.한국", "user@예시.한국", "üser@example.org",
           TOO_LONG_LABEL, "last@example.com"]
# what RCPT TO carries: the domain in IDNA form (computed with Python's idna codec and
# checked against the idna package: xn--vv4b11d.xn--3e0b707e)
IDN = "xn--vv4b11d.xn--3e0b707e"


@pytest.fixture(autouse=True)
def _send_secret(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "intl-test-secret-0123456789")


def _send(tmp_path, **server_options):
    with smtp_server(**server_options) as (server, port):
        config = config_for(tmp_path, smtp={"port": port, "connections": 2},
                            digest={"to": READERS})
        store = store_with(tmp_path, korean_articles(4, W24))
        report = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
        return report, server


def test_without_smtputf8_only_those_readers_fail_and_the_rest_are_sent(tmp_path):
    report, server = _send(tmp_path, enable_SMTPUTF8=False)  # aiosmtpd offers it by default
    assert sorted(server.count_by_recipient()) == sorted(
        ["first@example.com", f"user@{IDN}", "last@example.com"])
    failed = dict(report.failed)
    assert set(failed) == {"사용자@예시.한국", "üser@example.org"}
    assert "SMTPUTF8" in failed["사용자@예시.한국"] and "SMTPUTF8" in failed["üser@example.org"]
    [refused] = report.problems
    assert "IDNA" in refused and "가" not in refused
    assert report.deferred == []
    # the IDN reader's To header shows the domain as every client reads it
    (idn_copy,) = [r for r in server.received if r.rcpt == [f"user@{IDN}"]]
    assert idn_copy.message["To"] == f"user@{IDN}"


def test_with_smtputf8_every_valid_reader_is_sent(tmp_path):
    report, server = _send(tmp_path, enable_SMTPUTF8=True)
    assert sorted(server.count_by_recipient()) == sorted(
        ["first@example.com", f"사용자@{IDN}", f"user@{IDN}", "üser@example.org",
         "last@example.com"])
    assert report.failed == [] and len(report.problems) == 1
    (utf8_copy,) = [r for r in server.received if r.rcpt == [f"사용자@{IDN}"]]
    assert utf8_copy.message["To"] == f"사용자@{IDN}"
    assert b"To: \xec\x82\xac\xec\x9a\xa9\xec\x9e\x90@" in utf8_copy.data  # raw UTF-8 (RFC 6532)


def test_a_rerun_sends_nothing_twice_and_keeps_failures_failed(tmp_path):
    with smtp_server(enable_SMTPUTF8=True) as (server, port):
        config = config_for(tmp_path, smtp={"port": port}, digest={"to": READERS})
        store = store_with(tmp_path, korean_articles(4, W24))
        send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        again = send_week(config, store, WEEK, now=NOW, sleep=lambda s: None)
        store.close()
    assert again.sent == [] and again.already == 5
    assert max(server.count_by_recipient().values()) == 1


def test_commas_nul_bytes_and_control_characters_in_a_recipients_file(tmp_path):
    (tmp_path / "readers.txt").write_bytes(
        b"x@example.org,y@example.org\n"
        b"z@example.org; \"Kim, Chul\" <k@example.org>\n"
        b"nul\x00@example.org\n"
        b"cr@example.org\rBcc: evil@example.org\n")
    config = config_for(tmp_path, digest={"to": [], "recipients_file": "readers.txt"})
    got = load_recipients(config)
    assert got.addresses == ["x@example.org", "y@example.org", "z@example.org",
                             "k@example.org", "cr@example.org"]
    # a bare CR is a line end (old Mac files), so line 4 is two lines: the address, then a
    # "Bcc:" entry, which is not taken as the address inside it
    assert got.problems == ["readers.txt:3: contains a control character, skipped",
                            "readers.txt:5: not an email address, skipped"]
    config = config_for(tmp_path, digest={"to": ["a@example.org\x00b@example.org",
                                                 "c@example.org\r\nBcc: d@example.org"]})
    got = load_recipients(config)
    assert got.addresses == [] and all("control character" in p for p in got.problems)


def test_plain_login_over_no_tls_is_refused_unless_allowed(tmp_path):
    with pytest.raises(ConfigError, match=r"\[smtp\] username: with tls = \"none\" the password"):
        config_for(tmp_path, smtp={"username": "news", "tls": "none"})
    config = config_for(tmp_path, smtp={"username": "news", "tls": "none",
                                        "allow_plain_login": True})
    assert config.smtp.allow_plain_login
