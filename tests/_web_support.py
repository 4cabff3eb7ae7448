"""The subscribe endpoint under test: a site with articles in four departments, the Flask app
served by a real waitress server on 127.0.0.1, an aiosmtpd server for its emails, and a small
HTTP client (http.client, with its own cookie jar and no redirect following, so every status
and header is the server's own)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from _digest_support import config_for, korean_articles, smtp_server, store_with

SECRET = "test-secret-for-the-web-endpoint-0123456789"
WEB_URL = "https://news.example.org/list/"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


class Clock:
    """The endpoint's two clocks, moved by the test: ``now()`` stamps subscriber records and
    dates tokens; ``monotonic()`` drives the rate limits. No test sleeps."""

    def __init__(self, start: datetime = NOW):
        self.now = start
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def form(self, index: int = 0) -> dict[str, list[str]]:
        """The named inputs of the page's ``index``-th form: hidden ones with their values."""
        return parse_forms(self.body)[index]


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and self.forms and a.get("name"):
            kind = a.get("type", "text")
            values = self.forms[-1].setdefault(a["name"], [])
            if kind != "checkbox" or "checked" in a:
                values.append(a.get("value") or "")


def parse_forms(html: str) -> list[dict[str, list[str]]]:
    p = _Forms()
    p.feed(html)
    return p.forms


@dataclass
class Client:
    """One browser: keeps cookies, follows nothing."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    source: str | None = None   # the loopback address to connect from (127.0.0.2, ...)

    def request(self, method: str, path: str, body: dict | list | str | None = None, *,
                headers: dict[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10,
                                          source_address=(self.source, 0) if self.source
                                          else None)
        h = dict(self.headers)
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = (body if isinstance(body, str) else urlencode(body, doseq=True)).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return Reply(resp.status, resp.headers, text)

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw) -> Reply:
        return self.request("POST", path, body if body is not None else {}, **kw)

    def subscribe(self, address: str, categories=(), *, consent: bool = True,
                  extra: dict | None = None, lang: str | None = None) -> Reply:
        """Open the form, fill it in as a person would, send it."""
        page = self.get("/subscribe" + (f"?lang={lang}" if lang else ""))
        assert page.status == 200, page.body
        fields = page.form()
        body: dict[str, object] = {"csrf": fields["csrf"][0], "language": fields["language"][0],
                                   "address": address, "website": "",
                                   "categories": list(categories)}
        if consent:
            body["consent"] = "yes"
        body.update(extra or {})
        return self.post("/subscribe", body)


def path_of(url: str) -> str:
    """The path of a link in an email (the endpoint answers on loopback, not at [web] url)."""
    return urlsplit(url).path.removeprefix(urlsplit(WEB_URL).path.rstrip("/"))


LINK_RE = re.compile(r"https://news\.example\.org/list/\S+")


def links_in(text: str) -> list[str]:
    return LINK_RE.findall(text)


@dataclass
class Endpoint:
    config: object
    app: object
    port: int
    smtp: object
    folder: Path
    clock: Clock
    backend: object = None   # tests/pg.py's Backend; None: the SQLite file

    @property
    def state(self):
        return self.app.extensions["feedkit"]

    def client(self) -> Client:
        return Client(self.port)

    def mails(self, wait_for: int = 0, timeout: float = 10.0) -> list:
        """Messages the SMTP server received, after the outbox handed over what it had."""
        self.state.outbox.join()
        deadline = time.monotonic() + timeout
        while len(self.smtp.received) < wait_for and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.smtp.received)

    def store(self):
        from feedkit.store.backends import open_store

        return open_store(self.config)


# Cycled by korean_articles: 35 articles give 세무과 15, 관광과 10, 복지정책과 5, 도서관 5.
DEPARTMENTS = ("세무과", "관광과", "세무과", "복지정책과", "세무과", "관광과", "도서관")


def site_config(folder: Path, smtp_port: int, *, site: dict | None = None,
                smtp: dict | None = None, sections: dict | None = None, backend=None, **web):
    extra = {"site": site} if site else {}
    extra.update(sections or {})
    return config_for(folder, backend, web={"url": WEB_URL, **web},
                      smtp={"port": smtp_port, "retries": 0, **(smtp or {})}, **extra)


@contextmanager
def endpoint(folder: Path, *, articles=None, site: dict | None = None, behaviour=None,
             smtp: dict | None = None, sections: dict | None = None, backend=None, **web):
    """A running endpoint: a store with ``articles`` (default: 35 Korean articles, 세무과 15,
    관광과 10, 복지정책과 5, 도서관 5), waitress on a free loopback port, aiosmtpd for the
    emails. ``backend`` (tests/pg.py) puts the store on PostgreSQL; default a SQLite file."""
    from feedkit.web.app import create_app
    from feedkit.web.server import make_server

    start = NOW - timedelta(days=10)
    if articles is None:
        articles = korean_articles(35, start, categories=DEPARTMENTS)
    store_with(folder, articles, backend).close()
    clock = Clock()
    with smtp_server(behaviour) as (handler, smtp_port):
        config = site_config(folder, smtp_port, site=site, smtp=smtp, sections=sections,
                             backend=backend, **web)
        app = create_app(config, secret=SECRET, clock=clock.monotonic, now=clock)
        server = make_server(app, host="127.0.0.1", port=0)
        stop = threading.Event()
        thread = threading.Thread(target=_serve_until, args=(server, stop), daemon=True)
        thread.start()
        try:
            yield Endpoint(config, app, server.effective_port, handler, folder, clock, backend)
        finally:
            stop.set()
            thread.join(5)
            app.extensions["feedkit"].outbox.stop()   # its thread looks at the store no more
            app.extensions["feedkit"].stores.discard()


def _serve_until(server, stop: threading.Event) -> None:
    """waitress's loop in short turns, closed from its own thread when the test is done
    (closing its sockets from another thread would pull them from under a select)."""
    try:
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
