"""``feedkit serve``: the built folder on 127.0.0.1, plus a live preview of the weekly digest.

Why it is shaped like this:

* **Standard library only.** ``http.server`` (a ``ThreadingHTTPServer`` and a
  ``SimpleHTTPRequestHandler`` rooted with ``directory=``) is enough for a local look; a web
  framework would be a dependency for one command nobody runs in production.
* **Content types match the host the folder is deployed to** (GitHub Pages): ``.xml`` as
  ``application/xml`` and ``.json`` as ``application/json``, both UTF-8. Browsers display these
  (and apply ``feed.xsl``), where ``application/rss+xml`` or ``application/feed+json`` often
  makes them offer a download instead, which is not what a local look is for.
* **Previews are rendered on every request** from the store and the templates on disk, through
  :mod:`feedkit.digest`'s own functions, so editing a template and reloading shows the change,
  and what the preview shows is what ``digest render`` / ``digest send`` produce.
* **Nothing outside the output folder is reachable**: ``translate_path`` already drops ``..``
  after percent-decoding; a realpath check on top also stops symlinks leading out of it.
* **Creating the server is separate from running it** (:func:`make_server` vs :func:`serve`), so
  tests bind port 0 and run the real server in a thread.
* **A test send from the preview** (``POST /_preview/send``, the form on ``/_preview/``) is the
  one thing that acts rather than shows, so it is guarded (see :mod:`feedkit.site.serve_send`).
* **The preview opens only through the address the server printed** (a secret key that sets an
  HttpOnly cookie, as Jupyter does: :mod:`feedkit.site.serve_auth`): another user of the
  machine can reach 127.0.0.1 too, and must not get the test-send form.
"""

from __future__ import annotations

import html
import ipaddress
import os
import posixpath
import re
import secrets
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.site.serve_auth import PreviewKey, without_token
from feedkit.site.serve_send import SendRate

PREVIEW_PREFIX = "/_preview/"
SEND_PATH = "/_preview/send"    # POST only: the test send (feedkit.site.serve_send)
# /_preview/digest, /_preview/digest.txt, /_preview/digest/2024-W24(.html|.txt)
_DIGEST_ROUTE = re.compile(
    r"^/_preview/digest(?:/(?P<week>\d{4}-W\d{2}))?(?P<ext>\.html|\.txt)?$")

# What a browser needs to show each built file (see the module docstring for why not the
# feed-specific types). Anything else falls back to the mimetypes module.
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".xsl": "text/xsl",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
}
_TEXTUAL = ("text/", "application/xml", "application/json", "image/svg+xml")

Log = Callable[[str], None]


def with_charset(ctype: str) -> str:
    """Every text file feedkit writes is UTF-8; say so, or a browser guesses (badly, for Korean)."""
    return f"{ctype}; charset=utf-8" if ctype.startswith(_TEXTUAL) else ctype


def is_loopback(host: str) -> bool:
    """True if ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int, path: str = "/") -> str:
    """The URL to print: a wildcard address is opened in a browser as the loopback one."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


# ---------------------------------------------------------------------------------------------
# The digest preview


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


@dataclass
class Preview:
    """Renders the digest preview pages; holds no state but the config, a pinned "today" and
    the secret the test-send form carries (:mod:`feedkit.site.serve_send`)."""

    config: Config
    today: date | None = None   # None: the real date in the site's timezone, read per request
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    key: PreviewKey = field(default_factory=PreviewKey)         # who may open the preview
    sends: SendRate = field(default_factory=SendRate)           # test sends per hour

    def current_week(self):
        from feedkit.digest.week import Week, today_in

        tz = self.config.tz
        return Week.containing(self.today or today_in(tz), tz)

    def handle(self, path: str) -> Reply | None:
        """The reply for a ``/_preview/...`` path, or None if there is no such page."""
        from feedkit.digest.week import Week
        from feedkit.text.i18n import refresh

        refresh()   # an edited catalog shows in the next preview, like an edited digest.css

        if path in ("/_preview", PREVIEW_PREFIX):
            return self._index()
        m = _DIGEST_ROUTE.match(path)
        if not m:
            return None
        text = m["ext"] == ".txt"
        label = m["week"]
        try:
            week = Week.parse(label, self.config.tz) if label else self.current_week()
        except FeedkitError:
            return None    # 2024-W60: no such page
        return self._week(week, text)

    # -- pages -------------------------------------------------------------------------------

    def _open_store(self):
        from feedkit.store.backends import open_store

        # One connection per request: the server is threaded and sqlite3 connections are not
        # shared across threads; opening one is cheap next to rendering a digest.
        return open_store(self.config)

    def _week(self, week, text: bool) -> Reply:
        from feedkit.digest.compose import load_digest
        from feedkit.digest.render import DigestRenderer
        from feedkit.editorial.publication import build_time, visible_until
        from feedkit.mail.message import preview_unsubscribe
        from feedkit.site.archive import week_rows

        config = self.config
        until = visible_until(config, build_time())  # a preview shows what a build would
        with self._open_store() as store:
            dg = load_digest(config, store, week, until)
            weeks = week_rows(config, store, until) if dg.total == 0 else {}
        if dg.total == 0:
            return self._empty(week, list(weeks), text)
        renderer = DigestRenderer(config)     # per request: picks up an edited digest.css
        body = renderer.email(dg)
        page_html, page_text = body.personal(preview_unsubscribe(config, strict=False))
        if text:
            return Reply(200, "text/plain", page_text.encode("utf-8"))
        return Reply(200, "text/html", page_html.encode("utf-8"))

    def _empty(self, week, labels: list[str], text: bool) -> Reply:
        """A week without articles: say so, and point at the latest week that has some (not
        after this one, when there is one), since an empty digest is never sent."""
        from feedkit.text.i18n import for_config

        lang = for_config(self.config)
        span = f"{week.label} ({week.range_text(lang)})"
        earlier = [lb for lb in labels if lb <= week.label]
        target = earlier[0] if earlier else (labels[0] if labels else None)
        head = lang.gettext("%(week)s: no articles were published that week, so there is no "
                            "digest.") % {"week": span}
        more = lang.gettext("Latest week with news")
        empty = lang.gettext("The store is empty (run feedkit import)")
        link = f"{PREVIEW_PREFIX}digest/{target}" if target else ""
        if text:
            line = f"{more}: {link}" if target else empty
            return Reply(200, "text/plain", f"{head}\n{line}\n".encode())
        esc = html.escape
        tail = (f'<p>{esc(more)}: <a href="{esc(link)}">{esc(target)}</a></p>' if target
                else f"<p>{esc(empty)}</p>")
        all_weeks = esc(lang.gettext("All weeks"))
        back = f'<p><a href="{PREVIEW_PREFIX}">{all_weeks}</a></p>'
        return Reply(200, "text/html", _page(self.config, esc(head),
                                             f"<h1>{esc(head)}</h1>{tail}{back}"))

    def _index(self) -> Reply:
        """Every week that has news, newest first, each linking to its preview."""
        from feedkit.digest.week import Week
        from feedkit.site.archive import week_rows
        from feedkit.text.i18n import for_config

        config = self.config
        with self._open_store() as store:
            weeks = week_rows(config, store)
        lang = for_config(config)
        esc = html.escape
        current = self.current_week()
        items = []
        # TRANSLATORS: the link to a digest's plain-text part in the preview.
        text_word = esc(lang.pgettext("preview link", "text"))
        for label, rows in weeks.items():
            span = Week.parse(label, config.tz).range_text(lang)
            items.append(f'<li><a href="{PREVIEW_PREFIX}digest/{label}">{label}</a> '
                         f"{esc(span)} ({len(rows)}) · "
                         f'<a href="{PREVIEW_PREFIX}digest/{label}.txt">{text_word}</a></li>')
        title = lang.gettext("Digest preview")
        this_week = esc(lang.gettext("this week"))
        from feedkit.site.serve_send import test_send_form

        body = (f"<h1>{esc(title)}</h1>"
                f'<p><a href="{PREVIEW_PREFIX}digest">{current.label}</a> '
                f"({this_week}) · "
                f'<a href="{PREVIEW_PREFIX}digest.txt">{text_word}</a></p>'
                f"{test_send_form(config, list(weeks), self.form_token, self.today, SEND_PATH)}"
                f"<ul>{''.join(items)}</ul>")
        return Reply(200, "text/html", _page(config, esc(title), body))


def _page(config: Config, title: str, body: str) -> bytes:
    """A bare HTML page for the preview's own messages (title and body already escaped)."""
    lang = html.escape(config.site.language)
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>"
            # keep-all: Hangul breaks between words only; main: the page's content landmark
            f'<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; '
            f'padding: 0 1rem; word-break: keep-all; overflow-wrap: break-word">'
            f"<main>{body}</main></body></html>\n").encode()


# ---------------------------------------------------------------------------------------------
# HTTP


class Handler(SimpleHTTPRequestHandler):
    """Static files from the output folder, and ``/_preview/...`` rendered from the store."""

    server: PreviewServer
    server_version = "feedkit"
    sys_version = ""
    _live = False     # True while answering a preview (which sends its own Cache-Control)

    def do_GET(self) -> None:
        if not self._preview(head=False):
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._preview(head=True):
            super().do_HEAD()

    def do_POST(self) -> None:
        from feedkit.site.serve_send import handle_test_send, result_page

        if unquote(urlsplit(self.path).path) != SEND_PATH:
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "Only the test send takes a POST")
            return
        preview = self.server.preview
        if not self._let_in():
            return
        status, text = handle_test_send(self, preview, is_loopback(self.client_address[0]))
        title, body = result_page(preview.config, text)
        self._reply(Reply(status, "text/html", _page(preview.config, title, body)))

    def _reply(self, reply: Reply, *, head: bool = False) -> None:
        self._live = True
        self.send_response(reply.status)
        self.send_header("Content-Type", with_charset(reply.content_type))
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")   # rendered live: never reuse
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def _let_in(self) -> bool:
        """Whether the request holds the preview's cookie; if not, a 403 page is sent (see
        :mod:`feedkit.site.serve_auth`)."""
        preview = self.server.preview
        if preview.key.allows(self.headers.get("Cookie"), self.server.port):
            return True
        from feedkit.text.i18n import for_config

        _ = for_config(preview.config).gettext
        text = _("Open the preview through the address feedkit serve printed when it started "
                 "(it holds this session's key).")
        self._reply(Reply(403, "text/html", _page(preview.config, html.escape(_(
            "Digest preview")), f"<p>{html.escape(text)}</p>")))
        return False

    def _preview(self, *, head: bool) -> bool:
        path = unquote(urlsplit(self.path).path)
        if not (path == "/_preview" or path.startswith(PREVIEW_PREFIX)):
            return False
        preview = self.server.preview
        back = preview.key.login(self.path)
        if back is not None:   # the printed address: set the cookie, drop the key from the URL
            self._live = True
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Set-Cookie", preview.key.set_cookie(self.server.port))
            self.send_header("Location", back)
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            return True
        if not self._let_in():
            return True
        try:
            reply = self.server.preview.handle(path)
        except FeedkitError as exc:   # e.g. a template error while editing: show it
            reply = Reply(500, "text/plain", f"feedkit: error: {exc}\n".encode())
        except Exception as exc:      # a bug: keep the traceback, on the server's terminal
            traceback.print_exc()
            reply = Reply(500, "text/plain",
                          f"feedkit: internal error: {type(exc).__name__}: {exc}\n".encode())
        if reply is None:
            self.send_error(HTTPStatus.NOT_FOUND, "No such preview page")
            return True
        self._reply(reply, head=head)
        return True

    def send_head(self):
        # translate_path has already removed "..", "%2e%2e" and friends; this also refuses a
        # symlink inside the folder that points out of it, whether it is the file asked for or
        # the index.html the base class would serve for a directory (public/x/index.html ->
        # /etc/passwd), or a directory on the way.
        path = self.translate_path(self.path)
        candidates = [path]
        if os.path.isdir(path):
            candidates += [p for p in (os.path.join(path, "index.html"),
                                       os.path.join(path, "index.htm")) if os.path.lexists(p)]
        if not all(self._inside(p) for p in candidates):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def _inside(self, path: str) -> bool:
        target = os.path.realpath(path)
        root = self.server.root
        return target == root or target.startswith(root + os.sep)

    def guess_type(self, path) -> str:
        ext = posixpath.splitext(str(path))[1].lower()
        return with_charset(CONTENT_TYPES.get(ext) or super().guess_type(path))

    def end_headers(self) -> None:
        if not self._live:
            self.send_header("Cache-Control", "no-cache")   # a rebuild shows on reload
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {without_token(format % args)}")


class PreviewServer(ThreadingHTTPServer):
    """A threaded HTTP server rooted at the output folder, carrying the preview renderer."""

    daemon_threads = True          # an open keep-alive connection must not delay Ctrl-C
    allow_reuse_port = False       # never share a port with a server that is already running

    def __init__(self, address: tuple[str, int], root: Path, preview: Preview,
                 log: Log | None = None):
        self.root = os.path.realpath(root)
        self.preview = preview
        self.log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, partial(Handler, directory=self.root))

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def host(self) -> str:
        return self.server_address[0]

    def url(self, path: str = "/") -> str:
        return url_for(self.host, self.port, path)


def make_server(config: Config, *, host: str = "127.0.0.1", port: int = 8000,
                out_dir: Path | None = None, today: date | None = None,
                log: Log | None = None) -> PreviewServer:
    """Bind (but do not start) a server for the built folder; port 0 picks a free port."""
    root = out_dir or config.out_dir
    if not root.is_dir():
        raise FeedkitError(f"{root}: no such folder (run 'feedkit build' first)")
    host = host.strip("[]")
    try:
        return PreviewServer((host, port), root, Preview(config, today), log)
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = " (is another server running? try --port)" if port else ""
        raise FeedkitError(f"{url_for(host, port)}: cannot listen: {why}{hint}") from None


def serve(config: Config, *, host: str = "127.0.0.1", port: int = 8000, build: bool = True,
          today: date | None = None, info: Log = print, warn: Log = print,
          log: Log | None = None) -> None:
    """Build (unless ``build=False``), then serve until Ctrl-C, which returns normally."""
    if build:
        from feedkit.site.build import build as build_site
        from feedkit.store.backends import open_store

        with open_store(config) as store:
            report = build_site(config, store)
        info(report.summary(config.out_dir))
    if not is_loopback(host):
        warn(f"warning: {host} is not a loopback address: anyone who can reach this machine "
             "can read the site and its digest previews")
    server = make_server(config, host=host, port=port, today=today, log=log)
    try:
        info(f"Serving {config.out_dir} at {server.url()}")
        info(f"Digest preview (week {server.preview.current_week().label}; open this address "
             "first, it holds this session's key): "
             f"{server.preview.key.address(server.url(PREVIEW_PREFIX + 'digest'))} · plain text: "
             f"{server.url(PREVIEW_PREFIX + 'digest.txt')} · all weeks and a test send: "
             f"{server.url(PREVIEW_PREFIX)}")
        info("Press Ctrl-C to stop.")
        server.serve_forever()
    except KeyboardInterrupt:
        info("Stopped.")
    finally:
        server.server_close()
