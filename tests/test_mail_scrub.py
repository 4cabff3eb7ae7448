"""No spelling of a reader's address in any error feedkit prints or keeps (issue 22, item 7).

A relay echoes the address as *it* spells it: ``rejx@예시.한국`` goes out in ``RCPT TO`` with
its domain in IDNA form, and comes back as ``550 5.1.1 <rejx@xn--vv4b11d.xn--3e0b707e>``. That
reply must not reach the command's output, the send log's error column (on both store
backends), the committed ``data/send-log.jsonl``, or the web endpoint's log. A real aiosmtpd
relay answers it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    Behaviour,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.privacy import scrub, spellings

SECRET = "scrub-test-secret-0123456789"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
KOREAN = "rejx@예시.한국"
IDNA = "rejx@xn--vv4b11d.xn--3e0b707e"
REPLY = f"550 5.1.1 <{IDNA}>: Recipient address rejected: User unknown"
# What must never show up, in any case: the local part with either domain, and the domains.
NEEDLES = ("rejx", "xn--vv4b11d", "xn--3e0b707e", "예시", "한국")


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [n for n in NEEDLES if n in low]


@pytest.mark.parametrize("text", [
    REPLY,
    REPLY.upper(),
    f'550 "{KOREAN}" unknown',
    f"550 ({KOREAN.upper()}) unknown",
    f"550 [{IDNA}] unknown",
    f"550 '{IDNA}'",
    "550 rejx%40xn--vv4b11d.xn--3e0b707e",
    "550 <mailto:rejx@예시。한국>",            # an ideographic full stop: a dot to IDNA
    "550 <REJX@XN--VV4B11D.XN--3E0B707E.>",   # the root dot of a fully qualified name
])
def test_every_spelling_of_the_address_is_scrubbed(text: str) -> None:
    out = scrub(text, KOREAN)
    assert "<recipient>" in out, out
    assert _leaks(out) == [], out


def test_other_addresses_go_too_and_the_reason_stays() -> None:
    out = scrub("550 5.1.1 <kim@example.org> forwarded to Kim.Other@Example.NET: no such user",
                "kim@example.org")
    assert out == "550 5.1.1 <recipient> forwarded to <address>: no such user"
    assert scrub("421 4.7.0 try again later", KOREAN) == "421 4.7.0 try again later"
    assert spellings(KOREAN) == {KOREAN, IDNA}
    assert spellings(IDNA) == {KOREAN, IDNA}


def _site(folder: Path, port: int, backend) -> Path:
    return write_config_toml(folder, SITE_AND_SENDER_TOML + f"""\
to = ["kim@example.com", "{KOREAN}"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01

{backend.store_lines()}""")


def test_a_relay_echoing_the_idna_address_leaves_it_nowhere(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    seen: list[str] = []

    def on_rcpt(address: str) -> str | None:
        seen.append(address)
        return REPLY if address.lower() == IDNA else None

    with smtp_server(Behaviour(on_rcpt=on_rcpt)) as (server, port):
        config = _site(tmp_path, port, backend)
        store_with(tmp_path, korean_articles(3, W24), backend).close()
        base = ["--config", str(config)]
        sent = CliRunner().invoke(cli, [*base, "digest", "send", "--week", "2024-W24"])
        assert sent.exit_code == 3, sent.output
        # Another run that week retries the refused reader: the same reply, scrubbed again.
        again = CliRunner().invoke(cli, [*base, "digest", "send", "--week", "2024-W24"])
        assert again.exit_code == 3, again.output
        exported = tmp_path / "send-log.jsonl"
        export = CliRunner().invoke(cli, [*base, "export", "--out", str(tmp_path / "s.jsonl"),
                                          "--send-log", str(exported)])
        assert export.exit_code == 0, export.output
    assert IDNA in seen                                   # the relay really saw that spelling
    assert [r.rcpt for r in server.received] == [["kim@example.com"]]
    for result in (sent, again, export):
        assert _leaks(result.output) == [], result.output
    assert "failed: 550 5.1.1 <recipient>: Recipient address rejected" in sent.output
    errors = [e for (e,) in backend.rows("SELECT error FROM send_log")]
    assert any("<recipient>" in e for e in errors), errors
    assert _leaks(" ".join(errors)) == []
    assert _leaks(exported.read_text(encoding="utf-8")) == []
    assert "<recipient>: Recipient address rejected" in exported.read_text(encoding="utf-8")


def test_the_web_log_scrubs_the_idna_echo(tmp_path, caplog):
    from _web_support import endpoint

    def on_rcpt(address: str) -> str | None:
        return REPLY if address.lower() == IDNA else None

    caplog.set_level(logging.INFO, logger="feedkit.web")
    with endpoint(tmp_path, behaviour=Behaviour(on_rcpt=on_rcpt)) as ep:
        ep.client().subscribe(KOREAN)
        ep.mails()
        assert ep.state.outbox.failed == 1
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "feedkit.web")
    assert "refused: 550 5.1.1 <recipient>" in text, text
    assert _leaks(text) == [], text
