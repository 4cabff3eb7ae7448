"""``feedkit web`` as a city runs it: a real process serving with waitress on loopback, stopped
by SIGTERM (what systemd sends), its output checked for addresses."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from _digest_support import Behaviour, smtp_server
from _web_support import SECRET, Client, links_in, path_of
from conftest import REPO, Site

ADDRESS = "park.jiho@example.org"


@pytest.fixture(autouse=True)
def _restore_logging():
    """``feedkit web`` run in this process sets its loggers up for a server (no propagation to
    the root logger); put them back so later tests' log capture still sees them."""
    names = ("feedkit.web", "waitress", "feedkit.web.app")
    saved = {n: (lg.level, lg.propagate, list(lg.handlers))
             for n in names for lg in [logging.getLogger(n)]}
    yield
    for name, (level, propagate, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def web_site(tmp_path, smtp_port: int, url: bool = True) -> Site:
    extra = (f'\n[digest]\nfrom = "보령시 소식 <news@example.org>"\n'
             f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\nretries = 0\n')
    if url:
        extra += '\n[web]\nurl = "https://news.example.org/list/"\n'
    site = Site(tmp_path, extra=extra)
    site.run("import")
    return site


def test_feedkit_web_serves_sends_the_confirmation_and_stops_on_sigterm(tmp_path):
    with smtp_server() as (smtp, smtp_port):
        site = web_site(tmp_path, smtp_port)
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
               "FEEDKIT_SECRET": SECRET}
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedkit", "--config", str(site.config), "web", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"http://127\.0\.0\.1:(\d+)/subscribe", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port, proc.stderr.read()
            client = Client(port)
            page = client.get("/subscribe")
            assert page.status == 200
            # The sample's departments are offered.
            assert 'name="categories" value="' in page.body
            assert client.subscribe(ADDRESS).status == 303
            deadline = time.monotonic() + 15
            while not smtp.received and time.monotonic() < deadline:
                time.sleep(0.05)
            [mail] = smtp.received
            assert mail.rcpt == [ADDRESS]
            link = next(u for u in links_in(mail.message.get_content()) if "/confirm/" in u)
            assert client.post(path_of(link)).status == 200
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert "Stopped." in out and "Traceback" not in err
    assert "warning" not in err    # https [web] url, loopback --host: nothing to warn about
    assert ADDRESS not in out + err and "park.jiho" not in out + err
    assert site.rows("SELECT status FROM subscribers") == [("active",)]


def test_feedkit_web_without_url_or_secret_is_a_configuration_error(tmp_path, monkeypatch):
    site = web_site(tmp_path, 2525, url=False)
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    result = site.run("web", "--port", "0", ok=False)
    assert result.exit_code == 2
    assert "[web] url is not set" in result.stderr and "Traceback" not in result.output
    site = web_site(tmp_path / "b", 2525)
    monkeypatch.delenv("FEEDKIT_SECRET")
    result = site.run("web", "--port", "0", ok=False)
    assert result.exit_code == 2 and "$FEEDKIT_SECRET is not set" in result.stderr


def test_a_stopping_server_first_sends_the_confirmations_it_has_queued(tmp_path):
    release = threading.Event()
    # The SMTP server holds the first RCPT until the test lets it go: the confirmation is still
    # queued (or being handed over) when SIGTERM arrives.
    behaviour = Behaviour(hook_rcpt=lambda _addr: release.wait(10))
    with smtp_server(behaviour) as (smtp, smtp_port):
        site = web_site(tmp_path, smtp_port)
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
               "FEEDKIT_SECRET": SECRET}
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedkit", "--config", str(site.config), "web", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"http://127\.0\.0\.1:(\d+)/subscribe", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port, proc.stderr.read()
            assert Client(port).subscribe(ADDRESS).status == 303
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            release.set()
            out, err = proc.communicate(timeout=30)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err
        assert [m.rcpt for m in smtp.received] == [[ADDRESS]]
    assert "not handled" not in err and "Stopped." in out


def test_feedkit_web_warns_on_an_http_url_and_a_non_loopback_host_like_serve(tmp_path):
    """An http [web] url silently cost the one-click unsubscribe header (and sent every
    personal link in clear), and --host 0.0.0.0 passed without the warning `serve` gives: both
    are said on stderr before the endpoint starts, and it still starts."""
    site = web_site(tmp_path, 2525, url=False)
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[web]\nurl = "http://news.example.org/list/"\nproxy_hops = 1\n',
                           encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
           "FEEDKIT_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedkit", "--config", str(site.config), "web", "--host",
         "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        started = False
        for line in proc.stdout:
            if re.search(r"Subscribe endpoint at http://0\.0\.0\.0:\d+/subscribe", line):
                started = True
                break
        assert started, proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, err
    url, host = warnings
    assert url.startswith("warning: [web] url http://news.example.org/list/ is not https: ")
    assert "one-click unsubscribe" in url and "List-Unsubscribe-Post" in url
    assert host.startswith("warning: 0.0.0.0 is not a loopback address: anyone who can reach "
                           "this machine can use the endpoint directly")
    assert "[web] proxy_hops trusts X-Forwarded-* headers they can forge" in host
