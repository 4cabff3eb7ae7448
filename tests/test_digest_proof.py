"""Test sends (issue 13): ``feedkit digest send --to ADDRESS`` and the form of ``feedkit
serve``'s preview send one week's digest to one address, exactly as a reader gets it but with a
test mark in the subject and a Message-ID of its own, and never touch the send log.

Everything runs for real: the CLI (Click's runner), a real aiosmtpd server on 127.0.0.1, the real
preview server over HTTP, and the send log read back with sqlite3 or psycopg (the tests that
depend on the store run on both backends).
"""

from __future__ import annotations

import http.client
import socket
import threading
from contextlib import contextmanager
from email.header import decode_header, make_header
from urllib.parse import urlencode

import pytest
from _digest_support import smtp_server
from conftest import Site
from lxml import html as lxml_html

from feedkit.config import load_config
from feedkit.site.serve import make_server

WEEK = "2024-W51"          # the sample's last week with news (data/boryeong.jsonl)
NOW = "2024-12-23 09:00"   # the Monday after it, past the default send time
READERS = ["kim@example.com", "lee@example.org", "park@example.net"]


def digest_site(root, port: int, extra: str = "", backend=None) -> Site:
    """The sample site sending to READERS; on ``backend`` (tests/pg.py) when given."""
    site = Site(root, extra=f"""
[digest]
from = "보령시 소식 <news@example.org>"
to = {READERS!r}
unsubscribe = ["mailto:leave@lists.example.org", "https://news.example.org/u/{{token}}"]
{extra}
[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 5.0
""".replace("'", '"'))
    if backend is not None:
        site.use(backend)
    site.run("import")
    return site


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "proof-test-secret-0123456789")
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "unsubscribe-secret-0123456789")


def send_log(site: Site) -> list[tuple]:
    """Read with sqlite3 or psycopg (``Site.rows``), whichever backend the site is on."""
    return site.rows("SELECT * FROM send_log ORDER BY week, recipient")


def subject_of(received) -> str:
    return str(make_header(decode_header(received.message["Subject"])))


def html_part(received) -> str:
    msg = received.message
    part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    return part.get_content()


def text_part(received) -> str:
    msg = received.message
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    return part.get_content()


# -- the preview form ----------------------------------------------------------------------------


@contextmanager
def preview_server(site: Site, host: str = "127.0.0.1"):
    server = make_server(load_config(site.config), host=host, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def login(server, connect: str = "127.0.0.1") -> str:
    """Open the address ``feedkit serve`` prints (with its key), as the editor does: the
    Cookie header the browser then sends."""
    conn = http.client.HTTPConnection(connect, server.port, timeout=10)
    conn.request("GET", "/_preview/?token=" + server.preview.key.token)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 303 and resp.getheader("Location") == "/_preview/"
    cookie = resp.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return cookie.split(";", 1)[0]


def form_of(server, connect: str = "127.0.0.1") -> dict[str, str]:
    """The test-send form on /_preview/: its action and fields, as a browser reads them (with
    the cookie from the printed address: ``fields["cookie"]``)."""
    cookie = login(server, connect)
    conn = http.client.HTTPConnection(connect, server.port, timeout=10)
    conn.request("GET", "/_preview/", headers={"Cookie": cookie})
    body = conn.getresponse().read()
    conn.close()
    doc = lxml_html.fromstring(body.decode("utf-8"))
    (form,) = doc.xpath("//form")
    assert form.get("method") == "post"
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input")}
    fields["week"] = form.xpath(".//select[@name='week']/option[@selected]/@value")[0]
    fields["action"] = form.get("action")
    fields["cookie"] = cookie
    return fields


def post(port: int, path: str, fields: dict[str, str], *, connect: str = "127.0.0.1",
         headers: dict[str, str] | None = None) -> tuple[int, str]:
    fields = dict(fields)
    cookie = fields.pop("cookie", "")
    body = urlencode(fields).encode()
    conn = http.client.HTTPConnection(connect, port, timeout=30)
    conn.putrequest("POST", path, skip_host=True)
    head = {"Host": f"{connect}:{port}", "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)), **({"Cookie": cookie} if cookie else {}),
            **(headers or {})}
    for name, value in head.items():
        conn.putheader(name, value)
    conn.endheaders(body)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8")
    conn.close()
    return resp.status, lxml_html.fromstring(text).text_content()


def test_the_preview_form_sends_one_test_and_leaves_the_send_log_alone(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port, backend=backend)
        site.run("build")
        with preview_server(site) as server:
            fields = form_of(server)
            assert fields["week"] == WEEK   # the week `digest send` sends next (sample's last)
            assert len(fields["token"]) >= 32
            action = fields.pop("action")
            fields["to"] = "editor@city.example.kr"
            status, text = post(server.port, action, fields,
                                headers={"Origin": f"http://127.0.0.1:{server.port}",
                                         "Sec-Fetch-Site": "same-origin"})
        assert status == 200, text
        assert "editor@city.example.kr" in text and "[테스트]" in text
        assert [r.rcpt for r in smtp.received] == [["editor@city.example.kr"]]
        assert subject_of(smtp.received[0]).startswith("[테스트] ")
        assert send_log(site) == []


@pytest.mark.parametrize("change", [
    {"token": "wrong"},
    {"headers": {"Origin": "http://evil.example"}},
    {"headers": {"Origin": "null"}},
    {"headers": {"Sec-Fetch-Site": "cross-site"}},
    {"headers": {"Host": "rebound.evil.example:{port}"}},
    {"headers": {"Content-Type": "text/plain"}},
], ids=["token", "origin", "null-origin", "fetch-site", "dns-rebinding", "not-a-form"])
def test_forged_test_sends_are_refused_and_send_nothing(tmp_path, change):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site) as server:
            fields = form_of(server)
            action = fields.pop("action")
            fields["to"] = "victim@example.com"
            if "token" in change:
                fields["token"] = change["token"]
            headers = {k: v.format(port=server.port)
                       for k, v in change.get("headers", {}).items()}
            status, text = post(server.port, action, fields, headers=headers)
            # a GET never sends, whatever it carries (the cookie too)
            cookie = fields.pop("cookie")
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", action + "?" + urlencode(fields), headers={"Cookie": cookie})
            get_status = conn.getresponse().status
            conn.close()
    assert status == 403, text
    # The staff page speaks the site's language (the sample is Korean), with the reason.
    assert "테스트 발송을 거절했습니다: " in text
    assert get_status == 404
    assert smtp.received == []


def _outside_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))   # no packet is sent for a UDP connect
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def test_a_test_send_from_another_machine_is_refused(tmp_path):
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site, host="0.0.0.0") as server:
            fields = form_of(server, connect=outside)
            action = fields.pop("action")
            fields["to"] = "editor@city.example.kr"
            status, text = post(server.port, action, fields, connect=outside,
                                headers={"Host": f"127.0.0.1:{server.port}"})
    assert status == 403 and "테스트 발송은 이 컴퓨터에서만 할 수 있습니다" in text
    assert smtp.received == []


def test_the_preview_form_reports_a_bad_address_without_sending(tmp_path):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site) as server:
            fields = form_of(server)
            action = fields.pop("action")
            fields["to"] = "not an address"
            status, text = post(server.port, action, fields)
    assert status == 400 and "“not an address”은(는) 이메일 주소가 아닙니다" in text
    assert smtp.received == []


# -- digest send --to ----------------------------------------------------------------------------


def _headers(received) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in received.message.items()]


def _expected_token(address: str) -> str:
    """The unsubscribe token as the README defines it: HMAC-SHA256 of the lower-cased address,
    keyed by $FEEDKIT_UNSUBSCRIBE_SECRET, first 32 hex digits (computed here, not by feedkit)."""
    import hashlib
    import hmac

    return hmac.new(b"unsubscribe-secret-0123456789", address.lower().encode(),
                    hashlib.sha256).hexdigest()[:32]


def test_a_test_send_is_the_readers_message_with_a_test_mark_and_no_log(tmp_path, backend):
    """The reader kim gets the test, then the real digest: the two differ only in the subject's
    test mark, the Message-ID (a test must never be taken for the real one) and the Date."""
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port, backend=backend)
        # An earlier week really sent: its log rows must come through the test untouched.
        site.run("digest", "send", "--week", "2024-W32", "--now", NOW)
        smtp.received.clear()
        before = send_log(site)
        assert len(before) == 3

        result = site.run("digest", "send", "--to", "kim@example.com", "--now", NOW)
        assert result.exit_code == 0, result.output
        assert f"{WEEK}: test sent to kim@example.com" in result.output
        assert "send log is unchanged" in result.output
        assert send_log(site) == before
        (test,) = smtp.received
        assert test.rcpt == ["kim@example.com"]

        # The real send afterwards still goes to everyone, kim included.
        real = site.run("digest", "send", "--now", NOW)
        assert real.exit_code == 0, real.output
        assert sorted(r for got in smtp.received[1:] for r in got.rcpt) == sorted(READERS)
        kim = next(got for got in smtp.received[1:] if got.rcpt == ["kim@example.com"])

    real_subject = subject_of(kim)
    assert subject_of(test) == "[테스트] " + real_subject
    assert test.message["Message-ID"] != kim.message["Message-ID"]
    differ = {"Subject", "Message-ID", "Date", "Content-Type"}   # Content-Type: the boundary
    assert [(k, v) for k, v in _headers(test) if k not in differ] == \
           [(k, v) for k, v in _headers(kim) if k not in differ]
    assert [k for k, _ in _headers(test)] == [k for k, _ in _headers(kim)]
    assert [p.get_content_type() for p in test.message.walk()] == \
           [p.get_content_type() for p in kim.message.walk()] == \
           ["multipart/alternative", "text/plain", "text/html"]
    assert html_part(test) == html_part(kim)
    assert text_part(test) == text_part(kim)
    # kim's own links, not the first reader's or a placeholder
    token = _expected_token("kim@example.com")
    assert f"https://news.example.org/u/{token}" in test.message["List-Unsubscribe"]
    assert f"https://news.example.org/u/{token}" in html_part(test)


def test_a_test_send_to_someone_not_on_the_list_gets_their_own_links(tmp_path):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        result = site.run("digest", "send", "--to", "Editor <Editor@City.Example.kr>",
                          "--week", WEEK)
        assert result.exit_code == 0, result.output
    (test,) = smtp.received
    assert test.rcpt == ["Editor@city.example.kr"]   # the domain as IDNA writes it
    assert test.message["To"] == "Editor@City.Example.kr"
    token = _expected_token("Editor@City.Example.kr")
    assert f"https://news.example.org/u/{token}" in html_part(test)
    for reader in READERS:
        assert _expected_token(reader) not in test.data.decode("ascii", "replace")
    assert send_log(site) == []


def test_an_english_site_marks_the_test_in_english(tmp_path):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.edit_config(('language = "ko"', 'language = "en"'))
        site.run("digest", "send", "--to", "editor@example.org", "--week", WEEK)
    assert subject_of(smtp.received[0]).startswith("[TEST] ")


def test_a_refused_test_send_fails_in_one_line_and_logs_nothing(tmp_path):
    from _digest_support import Behaviour

    behaviour = Behaviour(on_rcpt=lambda rcpt: "550 5.1.1 no such user")
    with smtp_server(behaviour) as (_smtp, port):
        site = digest_site(tmp_path, port)
        result = site.run("digest", "send", "--to", "nobody@example.com", "--week", WEEK,
                          ok=False)
    assert result.exit_code == 1
    assert "test send to nobody@example.com refused: 550" in result.output
    assert "Traceback" not in result.output
    assert send_log(site) == []


@pytest.mark.parametrize("args, why", [
    (["--to", "not-an-address"], "not an email address"),
    (["--to", "a@example.com", "--dry-run"], "--dry-run"),
])
def test_bad_test_sends_are_usage_errors(tmp_path, args, why):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        result = site.run("digest", "send", "--week", WEEK, *args, ok=False)
    assert result.exit_code == 2 and why in result.output
    assert smtp.received == []


# -- subscriber mode ([digest] audience = "subscribers") ------------------------------------------


def subscriber_site(tmp_path, port: int, extra: str = "", backend=None):
    """A site in subscriber mode with 12 articles in 2024-W24, three per department."""
    import json as json_lib
    from datetime import datetime

    from _digest_support import SEOUL, korean_articles

    articles = korean_articles(12, datetime(2024, 6, 10, tzinfo=SEOUL))
    data = tmp_path / "week.jsonl"
    data.write_text("".join(json_lib.dumps(a.to_record(), ensure_ascii=False) + "\n"
                            for a in articles), "utf-8")
    site = Site(tmp_path / "site", extra=f"""
[digest]
from = "보령시 소식 <news@example.org>"
audience = "subscribers"
unsubscribe = ["mailto:leave@lists.example.org", "https://news.example.org/u/{{token}}"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 5.0
{extra}""")
    if backend is not None:
        site.use(backend)
    site.run("import", str(data))
    return site, articles


def article_links(received) -> set[str]:
    import re

    return set(re.findall(r"https://www\.brcn\.go\.kr/news/a\d{4}", html_part(received)))


def test_in_subscriber_mode_a_test_to_a_subscriber_is_their_own_digest(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site, articles = subscriber_site(tmp_path, port, backend=backend)
        site.run("subscribers", "add", "kim@example.com", "--category", "세무과",
                 "--category", "관광과")
        site.run("subscribers", "add", "lee@example.org")
        result = site.run("digest", "send", "--to", "kim@example.com", "--week", "2024-W24")
        assert "subscriber #1: 관광과, 세무과" in result.output
        assert send_log(site) == []
        (test,) = smtp.received
        wanted = {a.url for a in articles if a.category in ("세무과", "관광과")}
        assert article_links(test) == wanted and len(wanted) == 6
        token = _expected_token("kim@example.com")
        assert f"https://news.example.org/u/{token}" in test.message["List-Unsubscribe"]

        other = site.run("digest", "send", "--to", "park@example.net", "--week", "2024-W24")
        assert "not a subscriber: every department" in other.output
        assert article_links(smtp.received[1]) == {a.url for a in articles}

        site.run("digest", "send", "--week", "2024-W24", "--now", "2024-06-17 09:00")
        real = next(got for got in smtp.received[2:] if got.rcpt == ["kim@example.com"])
    assert sorted(r for got in smtp.received[2:] for r in got.rcpt) == [
        "kim@example.com", "lee@example.org"]
    assert html_part(test) == html_part(real) and text_part(test) == text_part(real)
    assert subject_of(test) == "[테스트] " + subject_of(real)


def test_in_subscriber_mode_a_reader_without_news_this_week_has_nothing_to_test(tmp_path):
    with smtp_server() as (smtp, port):
        site, _articles = subscriber_site(tmp_path, port)
        site.run("subscribers", "add", "choi@example.kr", "--category", "건축과")
        result = site.run("digest", "send", "--to", "choi@example.kr", "--week", "2024-W24",
                          ok=False)
    assert result.exit_code == 1
    assert "nothing to test" in result.output and "건축과" in result.output
    assert smtp.received == []


def test_with_a_web_endpoint_the_test_carries_the_subscribers_signed_links(tmp_path, backend):
    """With [web] url, a subscriber's digest links to their own signed unsubscribe and
    preferences pages: the test to them carries exactly those (read back with the token
    reader, which checks the signature and purpose)."""
    import re

    from feedkit.subscribers.tokens import read_token

    with smtp_server() as (smtp, port):
        site, _articles = subscriber_site(tmp_path, port,
                                          '\n[web]\nurl = "https://news.example.org/list/"\n',
                                          backend=backend)
        site.run("subscribers", "add", "kim@example.com", "--category", "세무과")
        site.run("digest", "send", "--to", "kim@example.com", "--week", "2024-W24")
        site.run("digest", "send", "--week", "2024-W24", "--now", "2024-06-17 09:00")
    test, real = smtp.received
    html = html_part(test)
    unsub = re.search(r"https://news\.example\.org/list/unsubscribe/([^\"<>\s]+)", html)
    prefs = re.search(r"https://news\.example\.org/list/preferences/([^\"<>\s]+)", html)
    assert unsub and prefs
    secret = "proof-test-secret-0123456789"
    [(key,)] = site.rows("SELECT link_key FROM subscribers WHERE id = 1")
    assert read_token(secret, "unsubscribe", unsub[1], key=key) == 1
    assert read_token(secret, "preferences", prefs[1], key=key) == 1
    assert unsub[0] in test.message["List-Unsubscribe"]
    assert html == html_part(real) and subject_of(test) == "[테스트] " + subject_of(real)
