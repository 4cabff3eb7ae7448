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


def _serve_here(config, host: str, during) -> list[tuple[str, str]]:
    """``serve()`` in this test's own (main) thread, as ``feedkit web`` runs it, so that the
    lines it says and the order it says them in are read exactly (and mutation testing sees the
    code run). A helper thread waits for the address line, runs ``during(port)``, then sends
    this process SIGTERM as systemd does; it sends nothing unless serve() got that far (its
    SIGTERM handler is set before the line), so a failing serve() cannot stop the test run."""
    import queue

    from feedkit.web.server import serve

    said: list[tuple[str, str]] = []
    ports: queue.Queue[int] = queue.Queue()

    def info(line: str) -> None:
        said.append(("info", line))
        m = re.search(r"http://\S+:(\d+)/subscribe ", line)
        if m:
            ports.put(int(m.group(1)))

    def drive() -> None:
        try:
            port = ports.get(timeout=20)
        except queue.Empty:
            return
        try:
            during(port)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    helper = threading.Thread(target=drive, daemon=True)
    helper.start()
    try:
        serve(config, host=host, port=0, info=info, warn=lambda line: said.append(("warn", line)))
    finally:
        signal.signal(signal.SIGTERM, before)
        helper.join(30)
    return said


def test_serve_says_where_it_listens_stops_on_sigterm_and_says_what_waits_for_the_relay(
        tmp_path, monkeypatch):
    """The relay is down: the confirmation asked for while serving is kept in the store, and the
    stopping server says so, then "Stopped."; an https url on loopback gives no warning."""
    from test_web_outbox import relay

    from feedkit.config import load_config

    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    with smtp_server(relay([True])) as (smtp, smtp_port):
        site = web_site(tmp_path, smtp_port)
        db = site.root / "articles.db"

        def during(port: int) -> None:
            assert Client(port).subscribe(ADDRESS).status == 303
            deadline = time.monotonic() + 20
            while _outbox_attempts(db) != [(1,)]:
                assert time.monotonic() < deadline, "the confirmation was never kept"
                time.sleep(0.05)

        said = _serve_here(load_config(site.config), "127.0.0.1", during)
    assert smtp.received == []
    [(kind, first), *rest] = said
    port = re.search(r":(\d+)/", first).group(1)
    assert (kind, first) == ("info", f"Subscribe endpoint at http://127.0.0.1:{port}/subscribe "
                                     "(public address: https://news.example.org/list/subscribe);"
                                     " Ctrl-C stops.")
    assert rest == [("info", "1 confirmation email(s) wait in the store for the relay; the next "
                             "'feedkit web' sends them."),
                    ("info", "Stopped.")]
    assert _outbox_attempts(db) == [(1,)]   # kept for the next run, not dropped on the way out


def _serve_while_the_relay_holds(tmp_path, release_after: float | None):
    """serve() with one confirmation asked for while the relay holds its RCPT, let go
    ``release_after`` seconds after the request (after the SIGTERM), or None: only once serve()
    has returned. Returns what serve() said and the recipients the relay took."""
    from feedkit.config import load_config

    release = threading.Event()
    with smtp_server(Behaviour(hook_rcpt=lambda _addr: release.wait(10))) as (smtp, smtp_port):
        site = web_site(tmp_path, smtp_port)

        def during(port: int) -> None:
            assert Client(port).subscribe(ADDRESS).status == 303
            if release_after is not None:
                threading.Timer(release_after, release.set).start()

        try:
            said = _serve_here(load_config(site.config), "127.0.0.1", during)
        finally:
            release.set()
        return said, [m.rcpt for m in smtp.received]


def test_serve_hands_over_a_confirmation_still_queued_when_sigterm_comes(tmp_path, monkeypatch,
                                                                         caplog):
    """The relay holds the confirmation's RCPT past the SIGTERM: the stopping server waits for
    it (up to 20 s) instead of leaving it unhandled, and then nothing waits in the store."""
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    caplog.set_level(logging.WARNING, logger="feedkit.web")
    said, received = _serve_while_the_relay_holds(tmp_path, release_after=0.5)
    assert received == [[ADDRESS]]
    assert [line for _kind, line in said][1:] == ["Stopped."]
    assert [r.getMessage() for r in caplog.records if r.name == "feedkit.web"
            and r.levelno >= logging.WARNING] == []


def test_serve_warns_before_it_starts_on_an_http_url_and_a_non_loopback_host(tmp_path,
                                                                              monkeypatch):
    """The warnings come first, one line each, then the address; nothing waits, so the stop
    says only "Stopped."."""
    from feedkit.config import load_config

    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    site = web_site(tmp_path, 2525, url=False)
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[web]\nurl = "http://news.example.org/list/"\nproxy_hops = 1\n',
                           encoding="utf-8")
    said = _serve_here(load_config(site.config), "0.0.0.0", lambda _port: None)
    kinds = [kind for kind, _line in said]
    assert kinds == ["warn", "warn", "info", "info"], said
    (_, url), (_, host), (_, where), (_, last) = said
    assert url.startswith("warning: [web] url http://news.example.org/list/ is not https: every "
                          "link in the emails (to confirm, unsubscribe, change departments) "
                          "travels unencrypted")
    assert url.endswith("put the endpoint behind an HTTPS reverse proxy and set its https address")
    assert host == ("warning: 0.0.0.0 is not a loopback address: anyone who can reach this "
                    "machine can use the endpoint directly, over plain HTTP and around the "
                    "reverse proxy and [web] proxy_hops trusts X-Forwarded-* headers they can "
                    "forge; keep --host 127.0.0.1 behind the proxy")
    assert re.fullmatch(r"Subscribe endpoint at http://0\.0\.0\.0:\d+/subscribe \(public "
                        r"address: http://news\.example\.org/list/subscribe\); Ctrl-C stops\.",
                        where)
    assert last == "Stopped."


def test_quiet_logging_prints_warnings_and_errors_once_each_and_nothing_else(capsys, caplog):
    """A server's log: no request detail, no info lines unless -v, each line once (nothing goes
    up to the root logger, where an embedding server's own handler would print it again), and a
    second set-up in the same process adds no second handler."""
    from feedkit.web.server import quiet_logging

    names = ("feedkit.web", "waitress", "feedkit.web.app")
    for name in names:
        logging.getLogger(name).handlers.clear()   # _restore_logging puts them back
    caplog.set_level(logging.DEBUG)
    quiet_logging()
    quiet_logging()
    logging.getLogger("feedkit.web").info("confirmation email sent")
    logging.getLogger("waitress").warning("task queue depth is 5")
    logging.getLogger("feedkit.web.app").error("a request failed")
    logging.getLogger("feedkit.web").warning("1 subscription request(s) not handled")
    assert capsys.readouterr().err == ("WARNING waitress: task queue depth is 5\n"
                                       "ERROR feedkit.web.app: a request failed\n"
                                       "WARNING feedkit.web: 1 subscription request(s) not "
                                       "handled\n")
    assert caplog.records == []
    assert [logging.getLogger(n).level for n in names] == [logging.WARNING] * 3


def _outbox_attempts(db) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT attempts FROM web_outbox").fetchall()


def test_a_request_still_unhandled_after_the_drain_is_one_warning_and_the_server_stops(
        tmp_path, monkeypatch, caplog):
    """The relay holds the confirmation past the whole drain (shortened here from 20 s): the
    server stops anyway, and its log says how many requests it left (never whose)."""
    from feedkit.web import server

    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setattr(server, "DRAIN_SECONDS", 0.3)
    caplog.set_level(logging.WARNING, logger="feedkit.web")
    _serve_while_the_relay_holds(tmp_path, release_after=None)
    warned = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    # First the stop's count; what the outbox thread says after (the relay gone) is its own.
    assert warned[0] == ("feedkit.web", "1 subscription request(s) not handled before stopping")
    assert [m for _n, m in warned].count(warned[0][1]) == 1


@pytest.mark.parametrize("url, hops, host, expected", [
    ("https://news.example.org/list/", 0, "127.0.0.1", []),
    ("https://news.example.org/list/", 0, "::1", []),
    ("https://news.example.org/list/", 0, "192.0.2.10", [
        "warning: 192.0.2.10 is not a loopback address: anyone who can reach this machine can "
        "use the endpoint directly, over plain HTTP and around the reverse proxy; keep --host "
        "127.0.0.1 behind the proxy"]),
    ("http://news.example.org/list/", 2, "127.0.0.1", [
        "warning: [web] url http://news.example.org/list/ is not https: every link in the "
        "emails (to confirm, unsubscribe, change departments) travels unencrypted, and mail "
        "providers show their one-click unsubscribe only for an https link, so the digests "
        "carry no List-Unsubscribe-Post header; put the endpoint behind an HTTPS reverse proxy "
        "and set its https address"]),
])
def test_start_warnings_one_whole_line_each(tmp_path, url, hops, host, expected):
    from feedkit.config import load_config
    from feedkit.web.server import start_warnings

    site = web_site(tmp_path, 2525, url=False)
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + f'\n[web]\nurl = "{url}"\nproxy_hops = {hops}\n',
                           encoding="utf-8")
    assert start_warnings(load_config(site.config), host) == expected


def test_another_wsgi_server_gets_the_app_from_the_environment(tmp_path, monkeypatch):
    """The README's `waitress-serve --call feedkit.web:create_app` (or gunicorn's
    'feedkit.web:create_app()'): no arguments, the config from $FEEDKIT_CONFIG and the secret
    from $FEEDKIT_SECRET; the form answers."""
    import feedkit.web

    site = web_site(tmp_path, 2525)
    monkeypatch.setenv("FEEDKIT_CONFIG", str(site.config))
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.chdir(tmp_path.parent)   # not the site's folder: the variable must be read
    app = feedkit.web.create_app()
    try:
        state = app.extensions["feedkit"]
        assert state.config.web.url == "https://news.example.org/list/" and state.secret == SECRET
        page = app.test_client().get("/subscribe")
        assert page.status_code == 200 and 'name="csrf"' in page.get_data(as_text=True)
    finally:
        app.extensions["feedkit"].outbox.stop()
        app.extensions["feedkit"].stores.discard()
