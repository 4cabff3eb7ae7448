"""Issue 22 item 9: ``feedkit serve``'s preview is the editor's, not every local user's.

Another user of the machine could read the preview page on 127.0.0.1, take its form token and
send test mails anywhere through the city's relay. Now the preview opens only through the
address the server printed (a key that sets an HttpOnly cookie, as Jupyter does), and test sends
are limited per hour. The real server on a loopback port, the real CLI, aiosmtpd for the mail.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
from urllib.parse import urlencode, urlsplit

import pytest
from _digest_support import smtp_server
from conftest import REPO
from lxml import html as lxml_html
from test_digest_proof import digest_site, form_of, post, preview_server

from feedkit.site.serve_send import SENDS_PER_HOUR, SendRate

PREVIEW_PAGES = ("/_preview/", "/_preview", "/_preview/digest", "/_preview/digest.txt",
                 "/_preview/digest/2024-W32")


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "proof-test-secret-0123456789")
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "unsubscribe-secret-0123456789")


def get(port: int, path: str, cookie: str = "") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    resp = conn.getresponse()
    resp.body = resp.read()
    conn.close()
    return resp


def test_without_the_printed_address_the_preview_is_closed(tmp_path) -> None:
    with smtp_server() as (_smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site) as server:
            key = server.preview.key
            for path in PREVIEW_PAGES:
                reply = get(server.port, path)
                assert reply.status == 403, path
                assert server.preview.form_token.encode() not in reply.body
                assert b"feedkit serve" in reply.body   # says how to get in
            # The built site itself is public anyway: served as before.
            assert get(server.port, "/index.html").status == 200
            # A wrong key, or another server's cookie, opens nothing and sets nothing.
            wrong = get(server.port, "/_preview/?token=" + "x" * 43)
            assert wrong.status == 403 and wrong.getheader("Set-Cookie") is None
            other = f"feedkit_preview_{server.port + 1}={key.cookie_value}"
            assert get(server.port, "/_preview/", other).status == 403
            forged = f"feedkit_preview_{server.port}={key.token}"
            assert get(server.port, "/_preview/", forged).status == 403

            # The printed address: a cookie scripts cannot read, then the page without the key.
            opened = get(server.port, "/_preview/digest?token=" + key.token)
            assert opened.status == 303
            assert opened.getheader("Location") == "/_preview/digest"
            cookie = opened.getheader("Set-Cookie")
            attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
            assert {"httponly", "samesite=strict", "path=/"} <= attrs
            assert key.token not in cookie
            jar = cookie.split(";", 1)[0]
            for path in PREVIEW_PAGES:
                assert get(server.port, path, jar).status in (200, 404), path
            assert server.preview.form_token.encode() in get(server.port, "/_preview/",
                                                             jar).body


def test_a_test_send_without_the_cookie_is_refused_even_with_the_form_token(tmp_path) -> None:
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site) as server:
            fields = form_of(server)          # an editor's session: the real form token
            action = fields.pop("action")
            fields.pop("cookie")              # ... in the hands of someone without the cookie
            fields["to"] = "victim@example.com"
            status, text = post(server.port, action, fields,
                                headers={"Origin": f"http://127.0.0.1:{server.port}"})
    assert status == 403 and "feedkit serve" in text
    assert smtp.received == []


def test_test_sends_are_limited_per_hour(tmp_path) -> None:
    clock = [1000.0]
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path, port)
        site.run("build")
        with preview_server(site) as server:
            server.preview.sends = SendRate(clock=lambda: clock[0])
            fields = form_of(server)
            action = fields.pop("action")
            fields["to"] = "editor@city.example.kr"
            for _ in range(SENDS_PER_HOUR):
                assert post(server.port, action, fields)[0] == 200
            status, text = post(server.port, action, fields)
            assert status == 429 and f"테스트 발송은 한 시간에 {SENDS_PER_HOUR}번까지" in text
            assert len(smtp.received) == SENDS_PER_HOUR
            clock[0] += 3600
            assert post(server.port, action, fields)[0] == 200
    assert len(smtp.received) == SENDS_PER_HOUR + 1


def test_the_cli_prints_the_address_with_its_key_and_logs_no_key(site) -> None:
    site.run("import")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedkit", "--config", str(site.config), "-v", "serve",
         "--port", "0", "--today", "2024-08-09"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        printed = None
        for line in proc.stdout:
            m = re.search(r"(http://127\.0\.0\.1:\d+/_preview/digest\?token=[\w-]+)", line)
            if m:
                printed = m.group(1)
                break
        assert printed, proc.stderr.read()
        parts = urlsplit(printed)
        token = parts.query.split("=", 1)[1]
        assert len(token) >= 40
        opened = get(parts.port, f"{parts.path}?{parts.query}")
        assert opened.status == 303
        cookie = opened.getheader("Set-Cookie").split(";", 1)[0]
        page = get(parts.port, "/_preview/digest", cookie)
        assert page.status == 200 and "보령시" in lxml_html.fromstring(page.body).text_content()
        assert get(parts.port, "/_preview/digest?" + urlencode({"token": "nope"})).status == 403
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "GET /_preview/digest?token=***" in out + err   # the request log: key cut out
    assert (out + err).count(token) == 0
