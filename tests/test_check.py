"""Everything a send needs is checked on every run, due or not; ``feedkit check`` checks
everything a run needs, one line each (issue 22, item 3).

Real servers only: aiosmtpd with STARTTLS and AUTH (the certificate and server of
tests/test_mail_tls.py), a loopback HTTP server for the sources (one board that answers, one
feed that is down, one page robots.txt shuts out).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import test_mail_tls
from _digest_support import SEOUL, korean_articles, smtp_server, store_with
from click.testing import CliRunner
from loopback_server import Site, serve
from test_mail_tls import tls_server

from feedkit.cli import cli

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
cert = test_mail_tls.cert   # the throw-away certificate fixture of the TLS tests
READERS = "kim@example.com\n이영희 <lee@example.org>\npark@example.net\nnot an address\n"
SECRETS = {"FEEDKIT_SECRET": "check-test-secret-0123456789",
           "FEEDKIT_RECIPIENTS": READERS,
           "FEEDKIT_UNSUBSCRIBE_SECRET": "u" * 32,
           "FEEDKIT_SMTP_PASSWORD": "pa55"}


def _config(folder: Path, *, port: int, tls: str = "starttls", sources: str = "",
            extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "news.jsonl").write_text(
        '{"title": "새해 첫 소식", "url": "https://www.brcn.go.kr/news/1", '
        '"published": "2024-06-11 10:00", "category": "홍보담당관"}\n', encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(f"""
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"

[fetch]
delay = 0
timeout = 3
retries = 0

[digest]
from = "보령시 소식 <news@example.org>"
recipients_env = "FEEDKIT_RECIPIENTS"
unsubscribe = ["mailto:leave@example.org?subject=unsubscribe%20{{token}}"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "{tls}"
username = "news"
timeout = 5

[[sources]]
kind = "jsonl"
path = "news.jsonl"
{sources}
{extra}""", encoding="utf-8")
    return path


def _run(config: Path, *args: str, env: dict[str, str | None]):
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=env)


@pytest.fixture
def no_secrets(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


# -- digest send checks what it needs on every run --------------------------------------------


def test_a_run_before_the_due_hour_stops_at_once_on_every_missing_secret(tmp_path, no_secrets):
    with smtp_server() as (server, port):
        config = _config(tmp_path, port=port, tls="none")
        config.write_text(config.read_text(encoding="utf-8").replace(
            'username = "news"', 'username = "news"\nallow_plain_login = true'),
            encoding="utf-8")
        store_with(tmp_path, korean_articles(3, W24)).close()
        # Monday 07:00: last week's digest is due at 08:00. Nothing set at all.
        result = _run(config, "digest", "send", "--now", "2024-06-17 07:00", env={})
        assert result.exit_code == 2, result.output
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("feedkit: error: ")]
        assert len(errors) == 4, result.stderr
        joined = "\n".join(errors)
        for needed in ("$FEEDKIT_SECRET is not set", "$FEEDKIT_RECIPIENTS is not set",
                       "$FEEDKIT_UNSUBSCRIBE_SECRET is not set",
                       "$FEEDKIT_SMTP_PASSWORD is empty"):
            assert needed in joined, joined
        assert "not due" not in result.output and "Traceback" not in result.output
        # With them all set, the same run is simply not due yet: exit 0, nothing sent.
        ok = _run(config, "digest", "send", "--now", "2024-06-17 07:00", env=SECRETS)
        assert ok.exit_code == 0, ok.output
        assert "2024-W24: not due until 2024-06-17 08:00 (Asia/Seoul); nothing sent" in ok.output
        # A recipients secret with nobody in it is a problem too, due or not.
        empty = _run(config, "digest", "send", "--now", "2024-06-17 07:00",
                     env={**SECRETS, "FEEDKIT_RECIPIENTS": "not an address\n"})
        assert empty.exit_code == 2 and "no recipients" in empty.stderr, empty.output
    assert server.received == []


# -- feedkit check ----------------------------------------------------------------------------


@pytest.fixture
def web():
    site = Site()
    with serve(site):
        site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n",
                  content_type="text/plain")
        site.page("/board/list.do", "<html><body><ul><li>소식</li></ul></body></html>")
        site.page("/down/feed.xml", "maintenance", status=503)
        site.page("/private/feed.xml", "<rss/>", content_type="application/rss+xml")
        yield site


def _sources(web: Site, *paths: str) -> str:
    kinds = {"/board/list.do": "html", "/down/feed.xml": "feed", "/private/feed.xml": "feed"}
    blocks = []
    for p in paths:
        block = f'\n[[sources]]\nkind = "{kinds[p]}"\nname = "{p}"\nurl = "{web.url(p)}"\n'
        if kinds[p] == "html":
            block += ('page_param = "page"\n[sources.selectors]\nitem = "li"\ntitle = "li"\n'
                      'date = "li"\n')
        blocks.append(block)
    return "".join(blocks)


def _lines(output: str) -> dict[str, str]:
    """{check name: its whole line}."""
    out = {}
    for line in output.splitlines():
        status, _, rest = line.partition("  ")
        name = rest.strip().split(": ", 1)[0]
        out[name] = f"{status.strip()} {rest.strip()}"
    return out


def test_check_logs_in_to_smtp_reaches_each_source_and_sends_nothing(tmp_path, cert, web,
                                                                     monkeypatch, no_secrets):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with tls_server(cert, implicit=False) as (server, port):
        config = _config(tmp_path, port=port, sources=_sources(web, "/board/list.do"))
        result = _run(config, "check", env=SECRETS)
        assert result.exit_code == 0, result.output
        lines = _lines(result.output)
        assert lines["config"].startswith("ok config: ")
        assert lines["send-log key"] == "ok send-log key: $FEEDKIT_SECRET set"
        assert lines["recipients"] == ("ok recipients: 3 address(es) from $FEEDKIT_RECIPIENTS, "
                                       "1 entry skipped")
        assert lines["unsubscribe secret"] == ("ok unsubscribe secret: "
                                               "$FEEDKIT_UNSUBSCRIBE_SECRET set")
        assert lines["smtp"] == (f"ok smtp: 127.0.0.1:{port}: EHLO, STARTTLS, AUTH as 'news' "
                                 "accepted; nothing sent")
        assert lines["source news.jsonl"] == "ok source news.jsonl: news.jsonl: readable"
        assert lines["source /board/list.do"].startswith(
            f"ok source /board/list.do: {web.url('/board/list.do')}: HTTP 200")
        assert "allowed by robots.txt" in lines["source /board/list.do"]
        assert lines["page templates"].startswith("ok ")
        assert lines["digest templates"].startswith("ok ")
        assert lines["unsubscribe mailbox"].startswith("skip ")
        assert server.received == []                   # EHLO, STARTTLS, AUTH, QUIT: no mail
        assert "@" not in result.output.replace("news@example.org", "")   # counted, not listed
        assert len(web.hits("/board/list.do")) == 1 and web.hits("/robots.txt")
        # The wrong password: the login is refused, a run-time failure (exit 1).
        bad = _run(config, "check", env={**SECRETS, "FEEDKIT_SMTP_PASSWORD": "wrong"})
        assert bad.exit_code == 1, bad.output
        assert _lines(bad.output)["smtp"].startswith(
            f"FAIL smtp: 127.0.0.1:{port}: login as 'news' refused: 535")
    assert server.received == []


def test_check_exit_codes_a_source_down_is_1_a_missing_secret_is_2(tmp_path, cert, web,
                                                                   monkeypatch, no_secrets):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with tls_server(cert, implicit=False) as (_server, port):
        config = _config(tmp_path, port=port,
                         sources=_sources(web, "/down/feed.xml", "/private/feed.xml"))
        result = _run(config, "check", env=SECRETS)
        assert result.exit_code == 1, result.output
        lines = _lines(result.output)
        assert lines["source /down/feed.xml"] == (
            f"FAIL source /down/feed.xml: {web.url('/down/feed.xml')}: HTTP 503 "
            "Service Unavailable")
        assert lines["source /private/feed.xml"].startswith("FAIL ")
        assert "disallowed by" in lines["source /private/feed.xml"]
        assert web.hits("/private/feed.xml") == []      # robots.txt said no: never fetched
        assert lines["smtp"].startswith("ok ")
        # Without the send-log key and the list: exit 2, and the other lines are still there.
        missing = _run(config, "check", env={**SECRETS, "FEEDKIT_SECRET": None,
                                             "FEEDKIT_RECIPIENTS": None})
        assert missing.exit_code == 2, missing.output
        lines = _lines(missing.output)
        assert lines["send-log key"].startswith("FAIL send-log key: $FEEDKIT_SECRET is not set")
        assert lines["recipients"].startswith("FAIL recipients: [digest] recipients_env: "
                                              "$FEEDKIT_RECIPIENTS is not set")
        assert lines["smtp"].startswith("ok ") and "digest templates" in lines


def test_check_finds_a_broken_template_and_an_unreachable_smtp_server(tmp_path, no_secrets):
    import socket

    with socket.socket() as probe:          # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = _config(tmp_path, port=closed, tls="none",
                     extra='[build]\ntemplates = "mine"\n')
    config.write_text(config.read_text(encoding="utf-8").replace(
        'username = "news"', ""), encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html.j2").write_text("<html>\n{% for a in articles %}\n{{ a.title }\n</html>",
                                        encoding="utf-8")
    result = _run(config, "check", env=SECRETS)
    assert result.exit_code == 2, result.output    # a file to fix outweighs a server down
    lines = _lines(result.output)
    assert lines["page templates"] == (f"FAIL page templates: {mine / 'index.html.j2'}:3: "
                                       "template error: unexpected '}'"), lines
    assert lines["digest templates"].startswith("ok ")
    assert lines["smtp"].startswith(f"FAIL smtp: 127.0.0.1:{closed}: ")
    assert "Traceback" not in result.output
